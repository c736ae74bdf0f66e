using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Porthole.Tests.Common.DeviceWeb;

/// <summary>
/// Debian's lighttpd on a loopback port with <c>/digest/</c> behind HTTP digest authentication (mod_auth +
/// mod_authn_file, an htdigest file), in the foreground (<c>-D</c>) as the current user. <c>POST /digest/upload</c>
/// (behind the same authentication) is forwarded to the device backend's upload hasher.
/// </summary>
public sealed class LighttpdDigestServer : IAsyncDisposable
{
    public const string LighttpdPath = "/usr/sbin/lighttpd";

    private LighttpdDigestServer(ProcessRunner process, int port)
    {
        Process = process;
        Port = port;
    }

    public ProcessRunner Process { get; }

    public int Port { get; }

    /// <summary>Writes a site, an htdigest file and a config into <paramref name="directory"/> and starts lighttpd.</summary>
    /// <param name="backendPort">Where <c>POST /digest/upload</c> goes (the <see cref="DeviceBackend"/>), through mod_proxy.</param>
    public static async Task<LighttpdDigestServer> StartAsync(string directory, string user, string password, string realm, int backendPort, Action<string>? log = null)
    {
        var root = Path.Combine(directory, "www");
        Directory.CreateDirectory(Path.Combine(root, "digest"));
        await File.WriteAllTextAsync(Path.Combine(root, "index.html"), "<!doctype html><title>Digest device</title><h1>Digest device</h1><a href=\"/digest/\">Protected</a>\n");
        await File.WriteAllTextAsync(Path.Combine(root, "digest", "index.html"), "<!doctype html><title>Digest area</title><h1 id=\"title\">Digest area</h1><p>Behind digest authentication.</p>\n");

        // htdigest format: user:realm:md5(user:realm:password) (RFC 2617 section 3.2.2.2, HA1).
        var ha1 = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes($"{user}:{realm}:{password}")));
        var htdigest = Path.Combine(directory, "htdigest");
        await File.WriteAllTextAsync(htdigest, $"{user}:{realm}:{ha1}\n");

        var (process, port) = await LoopbackDaemon.StartAsync("lighttpd", null, p =>
        {
            var config = Path.Combine(directory, "lighttpd.conf");
            File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $$"""
                server.bind = "127.0.0.1"
                server.port = {{p}}
                server.document-root = "{{root}}"
                server.errorlog = "/dev/stderr"
                server.modules = ("mod_auth", "mod_authn_file", "mod_proxy")
                server.upload-dirs = ("{{directory}}")
                server.stream-request-body = 2
                server.max-request-size = 262144
                index-file.names = ("index.html")
                mimetype.assign = (".html" => "text/html")
                auth.backend = "htdigest"
                auth.backend.htdigest.userfile = "{{htdigest}}"
                auth.require = ("/digest/" => ("method" => "digest", "realm" => "{{realm}}", "require" => "valid-user"))
                $HTTP["url"] == "/digest/upload" {
                  proxy.server = ("" => (("host" => "127.0.0.1", "port" => {{backendPort}})))
                }

                """));
            return ProcessRunner.Start(LighttpdPath, ["-D", "-f", config], log: log);
        });
        return new LighttpdDigestServer(process, port);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
