import Access
import Ledger
import Projections

/// The hook every PlanLedger ledger runs on each append, for the CLI and the server alike: token grants and
/// revocations (`access/...` streams) go to the token registry, everything else to the planning domain and its
/// projections.
public enum PlanLedgerHook {
    public static let standard: any LedgerHook = RoutingHook(routes: [TokenRegistry.streamKind: AccessProjector()],
                                                            fallback: PlanningProjector())
}
