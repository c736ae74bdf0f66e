namespace Porthole.Server.Relay;

/// <summary>
/// Pairs the two legs of a session. One server node keeps pending sessions in memory; a scaled-out deployment
/// replaces this with one that can pair a client and an agent connected to different nodes.
/// </summary>
public interface ISessionBroker
{
    PendingSession Create(SessionTarget target);

    PendingSession? Find(string sessionId);

    void Remove(PendingSession session);

    /// <summary>Sessions whose relay is running or about to run, for listing and termination.</summary>
    IReadOnlyCollection<PendingSession> Active { get; }
}
