from ai_platform.llm.simulator.server import main

main()
