using System.Globalization;

namespace Porthole.Tests.Common.DeviceWeb;

/// <summary>
/// Debian's nginx serving the test device's site on one loopback port, plain or with TLS, from its own prefix
/// directory (config, pid, temp paths), in the foreground as the current user. Static pages come from the shared
/// document root; the dynamic ones are forwarded to <see cref="DeviceBackend"/> the way a reverse proxy in front of an
/// application does it (Host passed through, no redirect rewriting, WebSocket upgrades, no request buffering).
/// </summary>
public sealed class NginxServer : IAsyncDisposable
{
    public const string NginxPath = "/usr/sbin/nginx";

    private NginxServer(ProcessRunner process, int port, string prefix)
    {
        Process = process;
        Port = port;
        Prefix = prefix;
    }

    public ProcessRunner Process { get; }

    public int Port { get; }

    public string Prefix { get; }

    /// <summary>One line per request: <c>CONNECTION METHOD PATH STATUS</c>, where CONNECTION is nginx's serial number of the TCP connection.</summary>
    public string AccessLogPath => Path.Combine(Prefix, "access.log");

    /// <summary>The access log's lines so far (written as each request ends).</summary>
    public IReadOnlyList<string> AccessLog() => File.Exists(AccessLogPath) ? File.ReadAllLines(AccessLogPath) : [];

    /// <summary>Writes a config into <paramref name="prefix"/> and starts nginx on <paramref name="port"/> (a free one when <c>null</c>).</summary>
    /// <param name="certificate">Listen with TLS using this certificate; plain HTTP when <c>null</c>.</param>
    public static async Task<NginxServer> StartAsync(
        string prefix, string documentRoot, string htpasswdPath, int backendPort, SelfSignedCertificate? certificate = null, int? port = null, Action<string>? log = null)
    {
        Directory.CreateDirectory(Path.Combine(prefix, "temp"));
        var (process, chosen) = await LoopbackDaemon.StartAsync("nginx", port, p =>
        {
            var config = Path.Combine(prefix, "nginx.conf");
            File.WriteAllText(config, Config(prefix, documentRoot, htpasswdPath, backendPort, certificate, p));
            return ProcessRunner.Start(NginxPath, ["-e", "stderr", "-p", prefix, "-c", config, "-g", "daemon off;"], log: log);
        });
        return new NginxServer(process, chosen, prefix);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    private static string Config(string prefix, string root, string htpasswd, int backendPort, SelfSignedCertificate? certificate, int port)
    {
        var temp = Path.Combine(prefix, "temp");
        var listen = certificate is null
            ? $"listen 127.0.0.1:{port};"
            : $"""
                listen 127.0.0.1:{port} ssl;
                    ssl_certificate {certificate.CertificatePath};
                    ssl_certificate_key {certificate.KeyPath};
                    # Devices do send these; they must not stick to a proxy host name that is not the device's.
                    add_header Strict-Transport-Security "max-age=63072000" always;
                    add_header Alt-Svc 'h3=":{port}"; ma=86400' always;
                """;
        // As root the master would start its workers as "nobody", who cannot read a test's files; stay who we are.
        var user = Environment.UserName == "root" ? "user root root;" : "";
        return string.Create(CultureInfo.InvariantCulture, $$"""
            {{user}}
            worker_processes 1;
            pid {{Path.Combine(prefix, "nginx.pid")}};
            error_log stderr warn;
            events { worker_connections 512; }
            http {
              # $connection is nginx's serial number of the TCP connection: requests that share one were kept alive.
              log_format connections '$connection $request_method $uri $status';
              access_log {{Path.Combine(prefix, "access.log")}} connections;
              client_body_temp_path {{temp}}/body;
              proxy_temp_path {{temp}}/proxy;
              fastcgi_temp_path {{temp}}/fastcgi;
              uwsgi_temp_path {{temp}}/uwsgi;
              scgi_temp_path {{temp}}/scgi;
              types {
                text/html html;
                text/css css;
                application/javascript js;
                application/json json;
                application/xml xml;
                application/octet-stream bin;
              }
              default_type application/octet-stream;
              sendfile on;
              # As devices do when the browser accepts it; the proxy must ask for plain bodies when it rewrites links.
              gzip on;
              gzip_min_length 0;
              gzip_types text/css application/javascript application/json;
              server_tokens off;
              upstream device_backend { server 127.0.0.1:{{backendPort}}; keepalive 8; }
              server {
                {{listen}}
                root {{root}};
                index index.html;

                location = /latin1.html {
                  charset iso-8859-1;
                }

                location /basic/ {
                  auth_basic "Device administration";
                  auth_basic_user_file {{htpasswd}};
                }

                # The device's application pages: a backend behind nginx, as on many embedded devices.
                location ~ ^/(login|logout|home|settings|headers|events|redirect|cookies)$ {
                  proxy_pass http://device_backend;
                  proxy_http_version 1.1;
                  proxy_set_header Connection "";
                  proxy_set_header Host $http_host;
                  proxy_set_header X-Device-Origin $scheme://127.0.0.1:$server_port;
                  proxy_redirect off;
                  proxy_buffering off;
                }

                location = /upload {
                  proxy_pass http://device_backend;
                  proxy_http_version 1.1;
                  proxy_set_header Connection "";
                  proxy_set_header Host $http_host;
                  proxy_set_header X-Device-Origin $scheme://127.0.0.1:$server_port;
                  proxy_redirect off;
                  proxy_request_buffering off;
                  client_max_body_size 200m;
                  proxy_read_timeout 300s;
                }

                # The request target as the device received it (no URI on proxy_pass: nginx passes it unchanged).
                location /echo/ {
                  proxy_pass http://device_backend;
                  proxy_http_version 1.1;
                  proxy_set_header Connection "";
                  proxy_set_header Host $http_host;
                }

                # A firmware upload behind basic authentication: a proxy answering the challenge must not lose the body.
                location = /basic/upload {
                  auth_basic "Device administration";
                  auth_basic_user_file {{htpasswd}};
                  proxy_pass http://device_backend/upload;
                  proxy_http_version 1.1;
                  proxy_set_header Connection "";
                  proxy_set_header Host $http_host;
                  proxy_request_buffering off;
                  client_max_body_size 200m;
                  proxy_read_timeout 300s;
                }

                location = /ws {
                  proxy_pass http://device_backend;
                  proxy_http_version 1.1;
                  proxy_set_header Upgrade $http_upgrade;
                  proxy_set_header Connection "upgrade";
                  proxy_set_header Host $http_host;
                  proxy_set_header X-Device-Origin $scheme://127.0.0.1:$server_port;
                  proxy_read_timeout 300s;
                }
              }
            }

            """);
    }
}
