from consortia.cli.main import main

main()
