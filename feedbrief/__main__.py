from feedbrief.launch import main

main()
