namespace Porthole.Agent.State;

/// <summary>
/// The gateway's local kill switch. Remote access is off when the agent was started or enrolled with
/// <c>--disable-remote-access</c> (off for the process's life) or while the marker file
/// <c>remote-access-disabled</c> exists in the state directory, which <c>porthole-agent remote-access disable</c>
/// creates and <c>enable</c> removes. A file rather than a signal or a socket: it works for whoever may write the
/// state directory (the same people who hold the device credential), survives restarts, and needs no listener on
/// the gateway. The running agent looks at it about once a second (<see cref="WatchAsync"/>) and at every session
/// opening; turning it off ends the sessions already open (the token <see cref="TryStartSession"/> gave each).
/// </summary>
public sealed class RemoteAccessSwitch
{
    public const string MarkerFileName = "remote-access-disabled";

    private readonly bool _disabledForLife;
    private readonly Lock _gate = new();
    private CancellationTokenSource _disabled = new();
    private bool _lastEnabled;

    public RemoteAccessSwitch(string stateDirectory, bool disabledForLife)
    {
        MarkerPath = MarkerPathIn(stateDirectory);
        _disabledForLife = disabledForLife;
        _lastEnabled = IsEnabled;
    }

    public string MarkerPath { get; }

    /// <summary>Read fresh from the file system, so a session opening never acts on a stale answer.</summary>
    public bool IsEnabled => !_disabledForLife && !File.Exists(MarkerPath);

    /// <summary>
    /// For a session about to open: <c>null</c> while remote access is off, else the token that ends it when turned off.
    /// Switched back on before the watch noticed, the session gets a live token rather than the last off's.
    /// </summary>
    public CancellationToken? TryStartSession()
    {
        lock (_gate)
        {
            if (!IsEnabled)
            {
                return null;
            }

            RenewIfCancelled();
            return _disabled.Token;
        }
    }

    /// <summary>
    /// Checks the switch every <paramref name="interval"/> until cancelled and calls <paramref name="changed"/> with the
    /// new state after each change; for a change to off, the open sessions' tokens fire once <paramref name="changed"/>
    /// returns (it tells the server first, so that both ends of a session hear why it ended). New sessions are refused
    /// from the moment the marker exists, since <see cref="IsEnabled"/> reads it fresh.
    /// </summary>
    public async Task WatchAsync(TimeSpan interval, Func<bool, Task> changed, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (Poll() is { } enabled)
                {
                    try
                    {
                        await changed(enabled).ConfigureAwait(false);
                    }
                    finally
                    {
                        if (!enabled)
                        {
                            EndOpenSessions();
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The agent is stopping.
        }
    }

    /// <summary>
    /// Re-reads the switch; returns the new state if it changed since the last look, else <c>null</c>. A change to on
    /// gives sessions a fresh token; a change to off leaves ending them to <see cref="EndOpenSessions"/>.
    /// </summary>
    public bool? Poll()
    {
        lock (_gate)
        {
            var enabled = IsEnabled;
            if (enabled == _lastEnabled)
            {
                return null;
            }

            _lastEnabled = enabled;
            if (enabled)
            {
                RenewIfCancelled();
            }

            return enabled;
        }
    }

    /// <summary>Fires the sessions' token: every session started while remote access was on ends.</summary>
    public void EndOpenSessions()
    {
        lock (_gate)
        {
            _disabled.Cancel();
        }
    }

    /// <summary>
    /// A fresh source once the last one has fired, and only then: replacing a live one would orphan the sessions holding
    /// its token. The fired one is not disposed: sessions that ended with it may still hold registrations on it.
    /// </summary>
    private void RenewIfCancelled()
    {
        if (_disabled.IsCancellationRequested)
        {
            _disabled = new CancellationTokenSource();
        }
    }

    /// <summary>Turns remote access off for the agent using <paramref name="stateDirectory"/> (running or not).</summary>
    public static string Disable(string stateDirectory, string? reason, DateTimeOffset now)
    {
        var path = MarkerPathIn(stateDirectory);
        File.WriteAllText(path, $"since {now:u}{(string.IsNullOrWhiteSpace(reason) ? "" : ": " + reason.Trim())}\n");
        return path;
    }

    /// <summary>Removes the marker; remote access is on again unless the agent runs with <c>--disable-remote-access</c>.</summary>
    public static bool Enable(string stateDirectory)
    {
        var path = MarkerPathIn(stateDirectory);
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        return true;
    }

    /// <summary>Where the marker of the agent using <paramref name="stateDirectory"/> lives.</summary>
    public static string MarkerPathIn(string stateDirectory) => Path.Combine(Path.GetFullPath(stateDirectory), MarkerFileName);
}
