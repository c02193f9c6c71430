public enum PlanLedgerCommand {
    public static func main() {}
}
