using System.Collections.Concurrent;

namespace Porthole.Server.Relay;

/// <summary>The single-node session broker.</summary>
public sealed class InMemorySessionBroker(TimeProvider time) : ISessionBroker
{
    private readonly ConcurrentDictionary<string, PendingSession> _sessions = new(StringComparer.Ordinal);

    public PendingSession Create(SessionTarget target)
    {
        var session = new PendingSession(target, time.GetUtcNow());
        _sessions[session.Id] = session;
        return session;
    }

    public PendingSession? Find(string sessionId) => _sessions.GetValueOrDefault(sessionId);

    public void Remove(PendingSession session)
    {
        _sessions.TryRemove(new KeyValuePair<string, PendingSession>(session.Id, session));
        session.Finish();
    }

    public IReadOnlyCollection<PendingSession> Active => [.. _sessions.Values];
}
