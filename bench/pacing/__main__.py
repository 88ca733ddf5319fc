from bench.pacing.run import main

main()
