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

    /// <summary>Open sessions one device may carry at once. Default: 100.</summary>
    public int MaxSessionsPerDevice { get; set; } = 100;

    /// <summary>Password attempts (login, password change) one client address may make per minute. Default: 30.</summary>
    public int LoginAttemptsPerClientPerMinute { get; set; } = 30;

    /// <summary>
    /// Smallest buffer block of Kestrel's socket, TLS and HTTP pipes, in bytes; <c>0</c> keeps Kestrel's own pool
    /// (4 KiB blocks). Larger blocks mean fewer receive calls and full-size TLS records for relayed data; idle
    /// connections hold none either way. Default: 16384.
    /// </summary>
    public int TransportBlockSize { get; set; } = LargeBlockMemoryPoolFactory.DefaultBlockSize;

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

        if (LoginAttemptsPerClientPerMinute < 1)
        {
            throw new InvalidOperationException("Porthole:LoginAttemptsPerClientPerMinute must be at least 1.");
        }

        if (TransportBlockSize != 0 && TransportBlockSize is < 4096 or > 1024 * 1024)
        {
            throw new InvalidOperationException("Porthole:TransportBlockSize must be 0 (Kestrel's default) or between 4096 and 1048576 bytes.");
        }

        if (ClientAttachTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Porthole:ClientAttachTimeout must be positive.");
        }
    }
}
