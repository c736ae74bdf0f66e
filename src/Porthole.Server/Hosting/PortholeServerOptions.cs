using Porthole.Server.Transport;
using Porthole.Tunnel.Streams;
using Porthole.Tunnel.Transport;

namespace Porthole.Server.Hosting;

/// <summary>Server settings, bound from the <c>Porthole</c> configuration section.</summary>
public sealed class PortholeServerOptions
{
    public const string SectionName = "Porthole";

    /// <summary>
    /// Where the database, TLS certificate and keys live. Default: <c>$PORTHOLE_DATA_DIR</c>, else
    /// <c>~/.local/share/porthole</c>. Set with <c>--data-dir</c>.
    /// </summary>
    public string? DataDir { get; set; }

    /// <summary>Listen address used when neither <c>--urls</c> nor <c>ASPNETCORE_URLS</c> is given. Default: <c>https://127.0.0.1:8443</c>.</summary>
    public string DefaultUrl { get; set; } = "https://127.0.0.1:8443";

    /// <summary>How long an enrolment token stays valid. Default: 24 hours.</summary>
    public TimeSpan EnrolmentTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long the agent may take to dial the target. Default: 10 seconds.</summary>
    public TimeSpan TargetConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an opened session waits for the client's stream before it is dropped. Default: 30 seconds.</summary>
    public TimeSpan ClientAttachTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Lifetime of API tokens created by <c>porthole login</c>; <c>null</c> means they never expire. Default: 30 days.</summary>
    public TimeSpan? LoginTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>A session with no message either way for this long is closed ("session idle for …"). Default: 1 hour.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>No session lives longer than this, busy or not. Default: 12 hours.</summary>
    public TimeSpan SessionMaxLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Open sessions one user may have at once. Default: 50.</summary>
    public int MaxSessionsPerUser { get; set; } = 50;

    /// <summary>
    /// Per-role overrides of <see cref="SessionIdleTimeout"/>, <see cref="SessionMaxLifetime"/> and
    /// <see cref="MaxSessionsPerUser"/>, keyed by role name (case-insensitive). A session runs under the roles whose
    /// grants allow it; when several do, the most generous value wins (grants add rights, they never take them away).
    /// Default: none.
    /// </summary>
    public Dictionary<string, RoleSessionLimits> RoleLimits { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The limits of a session allowed by grants of <paramref name="roles"/> (the global ones when there are none).</summary>
    public SessionLimits LimitsFor(IEnumerable<string> roles)
    {
        var each = roles.Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(role => RoleLimits.GetValueOrDefault(role))
            .Select(role => new SessionLimits(
                role?.SessionIdleTimeout ?? SessionIdleTimeout, role?.SessionMaxLifetime ?? SessionMaxLifetime, role?.MaxSessionsPerUser ?? MaxSessionsPerUser))
            .ToList();
        return each.Count == 0
            ? new SessionLimits(SessionIdleTimeout, SessionMaxLifetime, MaxSessionsPerUser)
            : new SessionLimits(each.Max(l => l.IdleTimeout), each.Max(l => l.MaxLifetime), each.Max(l => l.MaxSessionsPerUser));
    }

    /// <summary>Open sessions one device may carry at once. Default: 100.</summary>
    public int MaxSessionsPerDevice { get; set; } = 100;

    /// <summary>
    /// Time between WebSocket pings on the control channel and both legs of every session. Default: 15 seconds.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = KeepAliveSettings.Default.Interval;

    /// <summary>
    /// How much longer than <see cref="KeepAliveInterval"/> a peer may stay silent (nothing received while the server
    /// waits to read) before its connection is closed as dead; the session ends with "no answer to keep-alive pings".
    /// Default: 15 seconds, so a dead peer is noticed within 30 s.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = KeepAliveSettings.Default.Timeout;

    /// <summary><see cref="KeepAliveInterval"/> and <see cref="KeepAliveTimeout"/> together.</summary>
    public KeepAliveSettings KeepAlive => new(KeepAliveInterval, KeepAliveTimeout);

    /// <summary>
    /// How long a database statement waits for a lock held by another connection or process before the request is
    /// answered 503 storage-unavailable. Whole seconds, 1 to 60. Default: 5 seconds.
    /// </summary>
    public TimeSpan DatabaseBusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// On a graceful stop (SIGTERM), how long open sessions may run on before they are closed with "server shutting
    /// down". New sessions are refused (503 server-shutting-down) from the first moment. Default: 30 seconds.
    /// </summary>
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Password attempts (login, password change) one client address may make per minute. Default: 30.</summary>
    public int LoginAttemptsPerClientPerMinute { get; set; } = 30;

    /// <summary>The web proxy to device pages (<c>Porthole:WebProxy</c>).</summary>
    public WebProxy.WebProxyOptions WebProxy { get; set; } = new();

    /// <summary>
    /// Smallest buffer block of Kestrel's socket, TLS and HTTP pipes, in bytes; <c>0</c> keeps Kestrel's own pool
    /// (4 KiB blocks). Larger blocks mean fewer receive calls and full-size TLS records for relayed data; idle
    /// connections hold none either way. Default: 131072, one relay message (ab/50).
    /// </summary>
    public int TransportBlockSize { get; set; } = LargeBlockMemoryPoolFactory.DefaultBlockSize;

    /// <summary>
    /// Who accepts connections and does TLS for the addresses in <c>--urls</c>: <see cref="ServerTransport.Porthole"/>
    /// (Porthole's own, which reads a busy relayed connection on a thread of its own and relays its bytes inline;
    /// docs/design/tls-data-plane.md), <see cref="ServerTransport.Kestrel"/> (Kestrel's socket transport and HTTPS
    /// layer) or <see cref="ServerTransport.Auto"/> (the default: the own one where it can serve the configuration,
    /// <see cref="TransportChoice"/>). Both serve the same HTTP/1.1, HTTP/2 and WebSockets on the same addresses.
    /// </summary>
    public ServerTransport Transport { get; set; } = ServerTransport.Auto;

    /// <summary>
    /// On Porthole's own transport, who does TLS: <see cref="TransportTls.OpenSsl"/> (OpenSSL straight on each
    /// connection's socket, the least CPU per byte), <see cref="TransportTls.SslStream"/> (.NET's) or
    /// <see cref="TransportTls.Auto"/> (the default: OpenSSL where libssl 3 loads). Clients see the same certificate,
    /// protocols and ALPN either way (docs/design/tls-data-plane.md, "OpenSSL on the socket").
    /// </summary>
    public TransportTls TransportTls { get; set; } = TransportTls.Auto;

    /// <summary>
    /// On Porthole's own transport, the most threads busy relayed connections may hold at once; a busy
    /// connection that finds none free is read on the pool, as with Kestrel. <c>0</c>: four per core.
    /// </summary>
    public int TransportHotThreads { get; set; }

    /// <summary>How long a client may take over its TLS handshake on Porthole's own transport (Kestrel's own default is the same). Default: 10 s.</summary>
    public TimeSpan TlsHandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether TLS connections let OpenSSL free their record buffers (≈34 KiB) while idle
    /// (<c>SSL_MODE_RELEASE_BUFFERS</c>); they are allocated again with the next record. Default: <c>true</c>.
    /// </summary>
    public bool TlsReleaseIdleBuffers { get; set; } = true;

    /// <summary>
    /// Relay plain sessions frame by frame on the connections' own pipes (<see cref="Tunnel.Frames.FrameRelay"/>) when
    /// both legs are HTTP/1.1 WebSockets; <c>false</c> relays every session through WebSocket objects, as sessions
    /// over HTTP/2 and those the server takes part in (stored VNC password, browser SSH terminal) always are.
    /// Default: true.
    /// </summary>
    public bool FrameRelay { get; set; } = true;

    /// <summary>
    /// Offer agents a streams connection (<c>GET /api/v1/agent/streams</c>) and carry the sessions of agents that open
    /// one on it, many to a connection, instead of a connection per session (docs/design/agent-streams.md). Agents that
    /// do not announce streams are served as before, and so is a session while an agent's streams connection is down
    /// (the agent opens it with its first session). Default: true since 2026-12-07 (docs/performance.md, "Agent
    /// streams": a third less memory per idle session, one stream as fast as on a connection of its own over TLS).
    /// </summary>
    public bool AgentStreams { get; set; } = true;

    /// <summary>
    /// How long an agent's streams connection may carry no session before the server closes it; the agent opens it
    /// again with its next session, so an idle agent holds one connection, not two. Default: 2 minutes.
    /// </summary>
    public TimeSpan AgentStreamsIdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Bytes of receive window the node gives agents' streams beyond the protocol's 512 KiB, summed over all streams open
    /// at once: each stream is widened to 4 MiB while this lasts, and that is what the node may have to hold for a
    /// session whose client stops reading. A stream opened when it is spent keeps 512 KiB. <c>0</c> widens none.
    /// Default: 268435456 (256 MiB, sixty-four streams).
    /// </summary>
    public long AgentStreamsWindowBudget { get; set; } = StreamWindowBudget.DefaultBytes;

    /// <summary>Resolves <see cref="DataDir"/> to an absolute path.</summary>
    public string ResolveDataDir()
    {
        var dir = DataDir;
        if (string.IsNullOrWhiteSpace(dir))
        {
            dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "porthole");
        }

        return Path.GetFullPath(dir);
    }

    /// <summary>Fails fast with a message that says what to fix.</summary>
    public void Validate()
    {
        if (TlsHandshakeTimeout <= TimeSpan.Zero || TransportHotThreads < 0)
        {
            throw new InvalidOperationException("Porthole:TlsHandshakeTimeout must be positive and Porthole:TransportHotThreads 0 or more.");
        }

        if (EnrolmentTokenLifetime <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Porthole:EnrolmentTokenLifetime must be positive (e.g. 24:00:00).");
        }

        if (TargetConnectTimeout <= TimeSpan.Zero || TargetConnectTimeout > TimeSpan.FromMinutes(5))
        {
            throw new InvalidOperationException("Porthole:TargetConnectTimeout must be between 0 and 5 minutes.");
        }

        if (SessionIdleTimeout <= TimeSpan.Zero || SessionMaxLifetime <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Porthole:SessionIdleTimeout and Porthole:SessionMaxLifetime must be positive (e.g. 01:00:00).");
        }

        if (MaxSessionsPerUser < 1 || MaxSessionsPerDevice < 1)
        {
            throw new InvalidOperationException("Porthole:MaxSessionsPerUser and Porthole:MaxSessionsPerDevice must be at least 1.");
        }

        foreach (var (role, limits) in RoleLimits)
        {
            if (limits.SessionIdleTimeout <= TimeSpan.Zero || limits.SessionMaxLifetime <= TimeSpan.Zero || limits.MaxSessionsPerUser < 1)
            {
                throw new InvalidOperationException($"Porthole:RoleLimits:{role}: SessionIdleTimeout and SessionMaxLifetime must be positive and MaxSessionsPerUser at least 1.");
            }
        }

        if (LoginAttemptsPerClientPerMinute < 1)
        {
            throw new InvalidOperationException("Porthole:LoginAttemptsPerClientPerMinute must be at least 1.");
        }

        if (DatabaseBusyTimeout < TimeSpan.FromSeconds(1) || DatabaseBusyTimeout > TimeSpan.FromSeconds(60))
        {
            throw new InvalidOperationException("Porthole:DatabaseBusyTimeout must be between 1 and 60 seconds (e.g. 00:00:05).");
        }

        if (ShutdownDrainTimeout < TimeSpan.Zero || ShutdownDrainTimeout > TimeSpan.FromHours(1))
        {
            throw new InvalidOperationException("Porthole:ShutdownDrainTimeout must be between 0 and 1 hour (e.g. 00:00:30).");
        }

        KeepAlive.Validate("Porthole:KeepAliveInterval and Porthole:KeepAliveTimeout");

        if (TransportBlockSize != 0 && TransportBlockSize is < 4096 or > 1024 * 1024)
        {
            throw new InvalidOperationException("Porthole:TransportBlockSize must be 0 (Kestrel's default) or between 4096 and 1048576 bytes.");
        }

        if (AgentStreamsIdleTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Porthole:AgentStreamsIdleTimeout must be positive.");
        }

        if (AgentStreamsWindowBudget < 0)
        {
            throw new InvalidOperationException("Porthole:AgentStreamsWindowBudget must be 0 or more bytes.");
        }

        if (ClientAttachTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Porthole:ClientAttachTimeout must be positive.");
        }

        WebProxy.Validate();
    }
}
