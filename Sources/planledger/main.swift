import PlanLedgerCLI

PlanLedgerCommand.main()
