from stilts.cli import main

main()
