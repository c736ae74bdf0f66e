using System.Globalization;
using System.Security.Cryptography;
using Xunit;

namespace Porthole.Tests.Common.DeviceWeb;

/// <summary>
/// The embedded web servers of a test device, all real processes on 127.0.0.1 and random ports, with their own
/// generated configuration in a temp directory:
/// <list type="bullet">
/// <item>nginx over plain HTTP (<see cref="HttpPort"/>) and, as a separate process so its certificate can change,
/// over HTTPS with a self-signed certificate (<see cref="HttpsPort"/>), serving: <c>/</c>; <c>/login</c> (form; a
/// successful POST sets <c>devsession</c> with <c>Domain=127.0.0.1</c> and redirects to the absolute
/// <c>http://127.0.0.1:PORT/home</c>); <c>/home</c> and <c>/settings</c> (only with that cookie, else an absolute
/// redirect to /login); <c>/basic/</c> (basic auth); <see cref="DownloadPath"/> (64 MiB of random bytes);
/// <c>POST /upload</c> (answers the SHA-256 of what it received); <c>/ws</c> (WebSocket echo); <c>/events</c>
/// (server-sent events); <c>/headers</c> (the request headers as the device saw them, as JSON); <c>/links.html</c>
/// and <c>/app.js</c> (absolute links to <c>http://127.0.0.1:HttpPort</c>); <c>/live.html</c> (a page using the
/// WebSocket and the events).</item>
/// <item>lighttpd with <c>/digest/</c> behind digest auth (<see cref="DigestPort"/>).</item>
/// <item>Python's HTTP/1.0-only <c>http.server</c> (<see cref="Http10Port"/>), and an older kind still
/// (<see cref="Ancient"/>): no Content-Length, body until close, bare LF line endings.</item>
/// </list>
/// All accept <see cref="User"/> / <see cref="Password"/>.
/// </summary>
public sealed class DeviceWebSite : IAsyncLifetime, IAsyncDisposable
{
    public const string User = "operator";
    public const string Password = "device-password-7";
    public const string BasicRealm = "Device administration";
    public const string DigestRealm = "Digest device";
    public const string DownloadPath = "/files/firmware.bin";
    public const long DownloadLength = 64L * 1024 * 1024;

    /// <summary>An ISO-8859-1 page (declared as such in Content-Type; <c>/latin1-undeclared.html</c> is the same without a charset).</summary>
    public const string Latin1PagePath = "/latin1.html";

    /// <summary>An HTML page of about 17 MiB with absolute links to the device at its start and end.</summary>
    public const string BigPagePath = "/big.html";

    private readonly TempDirectory _directory = new("porthole-device-web");
    private NginxServer? _nginx;
    private NginxServer? _nginxTls;
    private int _certificateGeneration;

    public DeviceBackend Backend { get; } = new(User, Password);

    public LighttpdDigestServer Lighttpd { get; private set; } = null!;

    public Http10Server Http10 { get; private set; } = null!;

    /// <summary>HTTP/1.0 without Content-Length, body until close; bare LF line endings on <c>/lf…</c>.</summary>
    public AncientHttpDevice Ancient { get; private set; } = null!;

    /// <summary>Receives the servers' output lines, e.g. an xunit <c>ITestOutputHelper.WriteLine</c>.</summary>
    public Action<string>? Log { get; set; }

    public int HttpPort => Nginx.Port;

    public int HttpsPort => NginxTls.Port;

    public int DigestPort => Lighttpd.Port;

    public int Http10Port => Http10.Port;

    /// <summary><c>http://127.0.0.1:HttpPort</c>: the device's own address, as its pages and redirects spell it.</summary>
    public string HttpOrigin => $"http://127.0.0.1:{HttpPort}";

    public string HttpsOrigin => $"https://127.0.0.1:{HttpsPort}";

    public NginxServer Nginx => _nginx ?? throw new InvalidOperationException("not started");

    public NginxServer NginxTls => _nginxTls ?? throw new InvalidOperationException("not started");

    /// <summary>The certificate the HTTPS listener serves now.</summary>
    public SelfSignedCertificate Certificate { get; private set; } = null!;

    /// <summary>SHA-256 of the file at <see cref="DownloadPath"/>, lower-case hex.</summary>
    public string DownloadSha256 { get; private set; } = "";

    private string DocumentRoot => _directory.Combine("www");

    private string HtpasswdPath => _directory.Combine("htpasswd");

    public async Task InitializeAsync()
    {
        await Backend.StartAsync();
        Directory.CreateDirectory(DocumentRoot);
        await WriteStaticSiteAsync();
        await WriteHtpasswdAsync();
        Certificate = await SelfSignedCertificate.CreateAsync(_directory.Path, "tls-0");
        _nginx = await NginxServer.StartAsync(_directory.Combine("nginx"), DocumentRoot, HtpasswdPath, Backend.Port, log: Log);
        _nginxTls = await NginxServer.StartAsync(_directory.Combine("nginx-tls"), DocumentRoot, HtpasswdPath, Backend.Port, Certificate, log: Log);
        // The links page names the plain listener's port, known only now.
        await WriteLinksAsync();
        Lighttpd = await LighttpdDigestServer.StartAsync(_directory.Combine("lighttpd"), User, Password, DigestRealm, Backend.Port, Log);
        Http10 = await Http10Server.StartAsync(_directory.Combine("http10"), Log);
        Ancient = AncientHttpDevice.Start();
    }

    /// <summary>
    /// Restarts the HTTPS listener on the same port with a new self-signed certificate, as a device does after a
    /// factory reset or firmware update (every open connection to it is closed).
    /// </summary>
    public async Task<SelfSignedCertificate> ReplaceHttpsCertificateAsync()
    {
        var port = NginxTls.Port;
        await NginxTls.DisposeAsync();
        Certificate = await SelfSignedCertificate.CreateAsync(_directory.Path, "tls-" + ++_certificateGeneration);
        _nginxTls = await NginxServer.StartAsync(_directory.Combine("nginx-tls"), DocumentRoot, HtpasswdPath, Backend.Port, Certificate, port, Log);
        return Certificate;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in new IAsyncDisposable?[] { _nginx, _nginxTls, Lighttpd, Http10, Ancient, Backend })
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }

        _directory.Dispose();
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    private async Task WriteStaticSiteAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(DocumentRoot, "index.html"), """
            <!doctype html><html><head><meta charset="utf-8"><title>Test device</title></head><body>
            <h1 id="title">Test device</h1>
            <ul>
              <li><a id="login" href="/login">Log in</a></li>
              <li><a id="basic" href="/basic/">Basic-auth area</a></li>
              <li><a id="links" href="/links.html">Absolute links</a></li>
            </ul>
            </body></html>

            """);
        Directory.CreateDirectory(Path.Combine(DocumentRoot, "basic"));
        await File.WriteAllTextAsync(Path.Combine(DocumentRoot, "basic", "index.html"),
            "<!doctype html><html><head><title>Basic area</title></head><body><h1 id=\"title\">Basic area</h1><p>Behind basic authentication.</p></body></html>\n");

        // A live front panel: a WebSocket and server-sent events on the page's own origin.
        await File.WriteAllTextAsync(Path.Combine(DocumentRoot, "live.html"), """
            <!doctype html><html><head><meta charset="utf-8"><title>Live panel</title></head><body>
            <h1 id="title">Live panel</h1>
            <p>WebSocket: <span id="ws">connecting</span></p>
            <p>Events: <span id="sse">waiting</span></p>
            <script>
              const socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
              socket.onopen = () => socket.send('ping from the panel');
              socket.onmessage = (event) => { document.getElementById('ws').textContent = event.data; };
              socket.onerror = () => { document.getElementById('ws').textContent = 'error'; };
              const events = new EventSource('/events?count=3&intervalMs=200');
              events.onmessage = (event) => {
                document.getElementById('sse').textContent = event.data;
                if (event.data === 'tick 3') events.close();
              };
            </script>
            </body></html>

            """);

        // Random, so a truncated or corrupted transfer cannot hash equal by accident.
        Directory.CreateDirectory(Path.Combine(DocumentRoot, "files"));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var file = File.Create(Path.Combine(DocumentRoot, DownloadPath.TrimStart('/'))))
        {
            var chunk = new byte[1024 * 1024];
            for (long written = 0; written < DownloadLength; written += chunk.Length)
            {
                RandomNumberGenerator.Fill(chunk);
                hash.AppendData(chunk);
                await file.WriteAsync(chunk);
            }
        }

        DownloadSha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private async Task WriteLinksAsync()
    {
        var origin = HttpOrigin;
        await File.WriteAllTextAsync(Path.Combine(DocumentRoot, "links.html"), $$"""
            <!doctype html><html><head><meta charset="utf-8"><title>Links</title>
            <script src="{{origin}}/app.js"></script>
            </head><body>
            <h1 id="title">Links</h1>
            <a id="abs-home" href="{{origin}}/home">Home</a>
            <a id="abs-settings" href="{{origin}}/settings">Settings</a>
            <a id="relative" href="/index.html">Index</a>
            <script>var deviceBase = "{{origin}}/headers";</script>
            </body></html>

            """);
        await File.WriteAllTextAsync(Path.Combine(DocumentRoot, "app.js"), $$"""
            const deviceApi = "{{origin}}/headers";
            const deviceSocket = "ws://127.0.0.1:{{HttpPort}}/ws";

            """);

        await File.WriteAllTextAsync(Path.Combine(DocumentRoot, "style.css"), $$"""
            body { background: url("{{origin}}/background.png"); }

            """);
        await File.WriteAllTextAsync(Path.Combine(DocumentRoot, "config.json"), $$"""
            {"api":"{{origin}}/headers","escaped":"{{origin.Replace("/", @"\/", StringComparison.Ordinal)}}\/headers"}

            """);
        await File.WriteAllTextAsync(Path.Combine(DocumentRoot, "status.xml"), $$"""
            <?xml version="1.0"?><status><link href="{{origin}}/home"/></status>

            """);
        await File.WriteAllTextAsync(Path.Combine(DocumentRoot, "spellings.html"), $$"""
            <!doctype html><html><body>
            <img id="protocol-relative" src="//127.0.0.1:{{HttpPort}}/logo.png">
            <a id="upper" href="HTTP://127.0.0.1:{{HttpPort}}/home">Home</a>
            </body></html>

            """);

        // An older European device: ISO-8859-1 bytes (ä ö ü ß °), declared in the header or not at all.
        var latin1 = System.Text.Encoding.Latin1.GetBytes($"<!doctype html><html><body><h1 id=\"title\">Temperatur \u00e4u\u00dferst: 21\u00b0C \u00fcber Grenzwert</h1><a href=\"{origin}/home\">Zur\u00fcck</a></body></html>\n");
        await File.WriteAllBytesAsync(Path.Combine(DocumentRoot, "latin1.html"), latin1);
        await File.WriteAllBytesAsync(Path.Combine(DocumentRoot, "latin1-undeclared.html"), latin1);

        // Past the proxy's 16 MiB rewrite limit: must pass unchanged and whole.
        await using var big = new StreamWriter(Path.Combine(DocumentRoot, BigPagePath.TrimStart('/')));
        await big.WriteAsync($"<!doctype html><html><head><title>Big</title></head><body><a id=\"first\" href=\"{origin}/home\">Home</a>\n");
        var filler = "<p>" + new string('x', 1019) + "</p>\n";
        for (var i = 0; i < 17 * 1024; i++)
        {
            await big.WriteAsync(filler);
        }

        await big.WriteAsync($"<a id=\"last\" href=\"{origin}/settings\">Settings</a></body></html>\n");
    }

    private async Task WriteHtpasswdAsync()
    {
        var result = await ProcessRunner.RunAsync("openssl", ["passwd", "-apr1", "-stdin"], stdin: Password + "\n", timeout: TimeSpan.FromSeconds(30));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException("openssl passwd failed: " + result);
        }

        await File.WriteAllTextAsync(HtpasswdPath, string.Create(CultureInfo.InvariantCulture, $"{User}:{result.StandardOutput.Trim()}\n"));
    }
}
