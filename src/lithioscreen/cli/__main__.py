from lithioscreen.cli import main

main()
