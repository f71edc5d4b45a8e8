from feedbrief.cli import main

main()
