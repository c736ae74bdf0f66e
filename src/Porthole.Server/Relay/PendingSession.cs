using Porthole.Protocol.Control;
using Porthole.Protocol.Security;
using Porthole.Tunnel.Relay;

namespace Porthole.Server.Relay;

/// <summary>
/// One session between "the server asked the agent to open it" and "both legs are joined and relayed".
/// Each leg can attach once; the keys are random per session and compared in constant time.
/// </summary>
public sealed class PendingSession(SessionTarget target, DateTimeOffset createdAt)
{
    private const int Waiting = 0;
    private const int Claimed = 1;
    private const int Expired = 2;

    private readonly TaskCompletionSource<AgentLegOutcome> _agent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<bool> _clientClaim = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _clientState = Waiting;
    private string? _vncPassword;
    private Ssh.SshTerminalTarget? _sshTerminal;

    public string Id { get; } = SecretTokens.CreateId();

    public string AgentKey { get; } = SecretTokens.CreateId();

    public string ClientKey { get; } = SecretTokens.CreateId();

    public SessionTarget Target { get; } = target;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    /// <summary>Completes when the agent attached its data WebSocket or reported a failure.</summary>
    public Task<AgentLegOutcome> AgentOutcome => _agent.Task;

    /// <summary>Completes when the relay has ended (or the session expired before it began).</summary>
    public Task Finished => _finished.Task;

    public bool TryAttachAgent(string key, DataLeg leg) =>
        SecretTokens.FixedTimeEquals(key, AgentKey) && _agent.TrySetResult(AgentLegOutcome.Attached(leg));

    /// <summary>
    /// Attaches the agent's leg when it is a stream on the agent's streams connection: no key, because the server chose
    /// the stream on the device's own authenticated connection.
    /// </summary>
    public bool TryAttachAgentStream(DataLeg leg) => _agent.TrySetResult(AgentLegOutcome.Attached(leg));

    public bool TryFailOpen(OpenFailureReason reason, string message) => _agent.TrySetResult(AgentLegOutcome.Failed(reason, message));

    /// <summary>The client presents its key; succeeds once, and only before the session expired.</summary>
    public bool TryClaimClient(string key, string userId)
    {
        if (!SecretTokens.FixedTimeEquals(key, ClientKey) || userId != Target.UserId)
        {
            return false;
        }

        if (Interlocked.CompareExchange(ref _clientState, Claimed, Waiting) != Waiting)
        {
            return false;
        }

        _clientClaim.TrySetResult(true);
        return true;
    }

    /// <summary>Whether a client (or the server's web proxy) has claimed the session: from then on it owns the agent's leg.</summary>
    public bool ClientClaimed => Volatile.Read(ref _clientState) == Claimed;

    /// <summary>Waits for the client to claim the session; expires it when the time runs out first.</summary>
    public async Task<bool> WaitForClientAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await _clientClaim.Task.WaitAsync(timeout, time, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
        }

        return Interlocked.CompareExchange(ref _clientState, Expired, Waiting) == Claimed;
    }

    public void Finish() => _finished.TrySetResult();

    /// <summary>The idle timeout and lifetime the session runs under (from the roles that allowed it); <c>null</c> means the global ones.</summary>
    public Hosting.SessionLimits? Limits { get; set; }

    /// <summary>Set once both legs are joined and the relay runs; ending it ends the session.</summary>
    public SessionLifetime? Lifetime { get; private set; }

    public bool Joined => Lifetime is not null;

    public void Start(SessionLifetime lifetime) => Lifetime = lifetime;

    /// <summary>
    /// The stored VNC password the server answers the VNC server with (decrypted from the vault at open). It can be
    /// taken once, so it does not linger in memory longer than the handshake needs it.
    /// </summary>
    public string? TakeVncPassword() => Interlocked.Exchange(ref _vncPassword, null);

    public void UseVncPassword(string password) => _vncPassword = password;

    /// <summary>Set when the server itself runs SSH for a browser terminal; taken once by the relay.</summary>
    public Ssh.SshTerminalTarget? TakeSshTerminal() => Interlocked.Exchange(ref _sshTerminal, null);

    public void UseSshTerminal(Ssh.SshTerminalTarget target) => _sshTerminal = target;
}
