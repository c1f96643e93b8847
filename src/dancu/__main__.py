from dancu.cli import main

main()
