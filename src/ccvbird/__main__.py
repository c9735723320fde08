from ccvbird.entrypoints.cli import main

main()
