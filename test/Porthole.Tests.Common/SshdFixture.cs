using System.Globalization;
using Xunit;

namespace Porthole.Tests.Common;

/// <summary>
/// A real OpenSSH server on 127.0.0.1 and a free port, with its own host key and one authorised client key,
/// for tests that tunnel SSH. Usable as an xunit class fixture or through <see cref="StartAsync"/>.
/// </summary>
/// <remarks>Needs <c>/usr/sbin/sshd</c> and <c>ssh-keygen</c>; logs in as the current user (tests run as root).</remarks>
public sealed class SshdFixture : IAsyncLifetime, IAsyncDisposable
{
    private const string SshdPath = "/usr/sbin/sshd";
    private readonly TempDirectory _directory = new("porthole-sshd");
    private ProcessRunner? _sshd;

    /// <summary>The address sshd listens on.</summary>
    public string Host => "127.0.0.1";

    /// <summary>The port sshd listens on.</summary>
    public int Port { get; private set; }

    /// <summary>The user the client key logs in as.</summary>
    public string User { get; } = Environment.UserName;

    /// <summary><c>user@127.0.0.1</c>.</summary>
    public string Destination => $"{User}@{Host}";

    /// <summary>Private key (ed25519, no passphrase) that sshd accepts.</summary>
    public string ClientKeyPath => _directory.Combine("client_ed25519");

    /// <summary>Private host key of the server; its public half is <c>HostKeyPath + ".pub"</c>.</summary>
    public string HostKeyPath => _directory.Combine("host_ed25519");

    /// <summary>A known_hosts line for <c>[127.0.0.1]:Port</c>, for tests that check the host key.</summary>
    public string KnownHostsLine { get; private set; } = "";

    /// <summary>The sshd process, e.g. to wait for a log line (<c>LogLevel VERBOSE</c>, written to stderr).</summary>
    public ProcessRunner Process => _sshd ?? throw new InvalidOperationException("sshd is not started");

    /// <summary>Whether the server accepts passwords as well as keys.</summary>
    public bool AllowPasswords { get; private init; }

    /// <summary>Where the server writes more lines of its output, e.g. an xunit <c>ITestOutputHelper.WriteLine</c>.</summary>
    public Action<string>? Log { get; set; }

    /// <summary>Starts a server and waits until it accepts TCP connections.</summary>
    /// <param name="log">Receives the server's output lines.</param>
    /// <param name="allowPasswords">Also accept password authentication (checked against the system's accounts).</param>
    public static async Task<SshdFixture> StartAsync(Action<string>? log = null, bool allowPasswords = false)
    {
        var fixture = new SshdFixture { Log = log, AllowPasswords = allowPasswords };
        try
        {
            await fixture.InitializeAsync();
            return fixture;
        }
        catch
        {
            await fixture.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The options every ssh/scp client call needs: this key only, no host-key prompts or records, no questions,
    /// quiet; followed by <paramref name="extra"/>. The port is not included (scp spells it <c>-P</c>). ssh keeps the
    /// first value of each <c>-o</c> option, so <paramref name="extra"/> cannot override these.
    /// </summary>
    public string[] SshArgs(params string[] extra) =>
    [
        "-i", ClientKeyPath,
        "-o", "IdentitiesOnly=yes",
        "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR",
        "-o", "BatchMode=yes",
        .. extra,
    ];

    public async Task InitializeAsync()
    {
        await KeygenAsync(HostKeyPath);
        await KeygenAsync(ClientKeyPath);
        File.Copy(ClientKeyPath + ".pub", _directory.Combine("authorized_keys"));
        var hostPublicKey = (await File.ReadAllTextAsync(HostKeyPath + ".pub")).Split(' ', StringSplitOptions.RemoveEmptyEntries);

        // Privilege separation wants this directory; on a fresh container it does not exist.
        var mkdir = await ProcessRunner.RunAsync("mkdir", ["-p", "/run/sshd"], timeout: TimeSpan.FromSeconds(10));
        if (mkdir.ExitCode != 0)
        {
            throw new InvalidOperationException($"mkdir -p /run/sshd failed: {mkdir}");
        }

        // FreePort can race with another process; sshd then exits with "Address already in use". Try a few ports.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort.Get();
            KnownHostsLine = $"[{Host}]:{Port} {hostPublicKey[0]} {hostPublicKey[1]}";
            var config = WriteConfig();
            _sshd = ProcessRunner.Start(SshdPath, ["-D", "-e", "-f", config], log: Log);
            if (await FreePort.WaitUntilListeningAsync(Port, TimeSpan.FromSeconds(15), () => _sshd.HasExited))
            {
                return;
            }

            var output = _sshd.CapturedOutput;
            await _sshd.DisposeAsync();
            _sshd = null;
            if (attempt == 3 || !output.Contains("Address already in use", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"sshd did not start listening on 127.0.0.1:{Port}.\n{output}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_sshd is not null)
        {
            await _sshd.DisposeAsync();
            _sshd = null;
        }

        _directory.Dispose();
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    private string WriteConfig() => _directory.WriteFile("sshd_config", string.Create(CultureInfo.InvariantCulture, $"""
        Port {Port}
        ListenAddress {Host}
        HostKey {HostKeyPath}
        AuthorizedKeysFile {_directory.Combine("authorized_keys")}
        PidFile {_directory.Combine("sshd.pid")}
        UsePAM no
        StrictModes no
        PasswordAuthentication {(AllowPasswords ? "yes" : "no")}
        KbdInteractiveAuthentication no
        PermitRootLogin prohibit-password
        LogLevel VERBOSE
        Subsystem sftp internal-sftp
        # The default (10:30:100) randomly drops unauthenticated connections past 10; tests open 20 at once.
        MaxStartups 100

        """));

    private static async Task KeygenAsync(string path)
    {
        var result = await ProcessRunner.RunAsync("ssh-keygen", ["-q", "-N", "", "-t", "ed25519", "-C", "porthole-test", "-f", path], timeout: TimeSpan.FromSeconds(30));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ssh-keygen failed for {path}: {result}");
        }
    }
}
