using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Porthole.Tests.Common.DeviceWeb;

/// <summary>
/// The dynamic half of the test device: a minimal Kestrel app on loopback that nginx forwards to for what a static
/// site cannot do. It behaves like a picky embedded web server: the login form sets a cookie with <c>Domain=</c> its
/// own IP and redirects with an absolute <c>Location</c> to its own address, and refuses logins whose
/// <c>Origin</c>/<c>Referer</c> is not its own (a common CSRF defence).
/// </summary>
/// <remarks>
/// nginx passes the device's own origin (<c>$scheme://127.0.0.1:$server_port</c>) in <see cref="DeviceOriginHeader"/>,
/// because a real device knows its address; <c>Host</c> is passed through unchanged so <c>/headers</c> shows what
/// the client sent.
/// </remarks>
public sealed class DeviceBackend : IAsyncDisposable
{
    /// <summary>Set by nginx only, never by a client: the origin of the listener the request came in on.</summary>
    public const string DeviceOriginHeader = "X-Device-Origin";

    public const string SessionCookie = "devsession";

    private readonly ConcurrentDictionary<string, string> _sessions = new(StringComparer.Ordinal);
    private readonly string _user;
    private readonly string _password;
    private WebApplication? _app;

    public DeviceBackend(string user, string password)
    {
        _user = user;
        _password = password;
    }

    /// <summary>The loopback port Kestrel listens on.</summary>
    public int Port { get; private set; }

    /// <summary>How many logins succeeded, to tell a login through the proxy from none.</summary>
    public int SuccessfulLogins => _sessions.Count;

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options =>
        {
            options.Listen(IPAddress.Loopback, 0);
            // The firmware upload is 100 MB; Kestrel's default limit is 30 MB.
            options.Limits.MaxRequestBodySize = 256L * 1024 * 1024;
        });
        var app = builder.Build();
        app.UseWebSockets();
        app.MapGet("/login", context => Html(context, LoginForm(null)));
        app.MapPost("/login", LoginAsync);
        app.MapGet("/home", context => LoggedInPageAsync(context, "Welcome", "<p>Welcome, " + _user + ".</p><p><a id=\"settings\" href=\"/settings\">Settings</a></p>"));
        app.MapGet("/settings", context => LoggedInPageAsync(context, "Settings", "<p id=\"settings-page\">Settings of the device.</p><p><a id=\"home\" href=\"/home\">Home</a></p>"));
        app.MapGet("/logout", LogoutAsync);
        app.Map("/headers", HeadersAsync);
        app.MapPost("/upload", UploadAsync);
        // The same behind lighttpd's digest authentication (it forwards the path as is).
        app.MapPost("/digest/upload", UploadAsync);
        app.MapGet("/cookies", SetManyCookies);
        app.MapGet("/echo/{**rest}", EchoTarget);
        app.Map("/ws", EchoWebSocketAsync);
        app.MapGet("/events", EventsAsync);
        app.MapGet("/redirect", Redirect);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Port = new Uri(address).Port;
        _app = app;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
            await _app.DisposeAsync();
            _app = null;
        }
    }

    private static string DeviceOrigin(HttpContext context) =>
        context.Request.Headers[DeviceOriginHeader].ToString() is { Length: > 0 } origin ? origin : $"{context.Request.Scheme}://{context.Request.Host}";

    private async Task LoginAsync(HttpContext context)
    {
        var origin = DeviceOrigin(context);
        var requestOrigin = context.Request.Headers.Origin.ToString();
        var referer = context.Request.Headers.Referer.ToString();
        if ((requestOrigin.Length > 0 && requestOrigin != origin) || (referer.Length > 0 && !referer.StartsWith(origin + "/", StringComparison.Ordinal)))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await Html(context, $"<h1>Forbidden</h1><p id=\"error\">Login refused: foreign Origin '{WebUtility.HtmlEncode(requestOrigin)}' or Referer '{WebUtility.HtmlEncode(referer)}'.</p>");
            return;
        }

        var form = await context.Request.ReadFormAsync();
        if (form["username"] != _user || form["password"] != _password)
        {
            await Html(context, LoginForm("Wrong user name or password."));
            return;
        }

        var session = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _sessions[session] = _user;
        // What embedded devices do: Domain= their own IP, an absolute redirect to their own address.
        context.Response.Headers.SetCookie = $"{SessionCookie}={session}; Path=/; Domain=127.0.0.1; HttpOnly";
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = origin + "/home";
    }

    private Task LogoutAsync(HttpContext context)
    {
        if (context.Request.Cookies[SessionCookie] is { } session)
        {
            _sessions.TryRemove(session, out _);
        }

        context.Response.Headers.SetCookie = $"{SessionCookie}=; Path=/; Domain=127.0.0.1; Max-Age=0";
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = DeviceOrigin(context) + "/login";
        return Task.CompletedTask;
    }

    private Task LoggedInPageAsync(HttpContext context, string title, string body)
    {
        if (context.Request.Cookies[SessionCookie] is not { } session || !_sessions.ContainsKey(session))
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = DeviceOrigin(context) + "/login";
            return Task.CompletedTask;
        }

        return Html(context, $"<h1 id=\"title\">{title}</h1>{body}");
    }

    /// <summary>Every request header as the device received it (nginx's own <see cref="DeviceOriginHeader"/> left out), as JSON.</summary>
    private static async Task HeadersAsync(HttpContext context)
    {
        var headers = context.Request.Headers
            .Where(h => !h.Key.Equals(DeviceOriginHeader, StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["method"] = context.Request.Method,
            ["path"] = context.Request.Path.Value + context.Request.QueryString.Value,
            ["headers"] = headers,
        }));
    }

    /// <summary>Hashes the body as it streams in (never holds it) and answers <c>{"bytes":N,"sha256":"hex"}</c>.</summary>
    private static async Task UploadAsync(HttpContext context)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            total += read;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $$"""{"bytes":{{total}},"sha256":"{{Convert.ToHexStringLower(hash.GetHashAndReset())}}"}"""));
    }

    /// <summary>
    /// The ways devices spell a redirect (<c>?to=</c>): <c>absolute</c> to their own origin, <c>other-scheme</c>
    /// (https on the same host and port), <c>protocol-relative</c>, <c>relative</c>, <c>foreign</c> (another site), and
    /// <c>host</c> (built from the request's Host header, as many devices do).
    /// </summary>
    private static Task Redirect(HttpContext context)
    {
        var origin = new Uri(DeviceOrigin(context));
        var own = $"127.0.0.1:{origin.Port}";
        var location = context.Request.Query["to"].ToString() switch
        {
            "absolute" => $"{origin.Scheme}://{own}/home?from=redirect",
            "other-scheme" => $"{(origin.Scheme == "https" ? "http" : "https")}://{own}/home?from=redirect",
            "protocol-relative" => $"//{own}/home?from=redirect",
            "relative" => "/home?from=redirect",
            "host" => $"{origin.Scheme}://{context.Request.Host}/home?from=redirect",
            "foreign" => "http://www.example.com/manual?from=redirect",
            _ => null,
        };
        if (location is null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return Task.CompletedTask;
        }

        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }

    /// <summary>The request target exactly as it arrived (path and query, still encoded), as plain text.</summary>
    private static Task EchoTarget(HttpContext context)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget);
    }

    /// <summary>Cookies as embedded servers spell them: Domain in any case and with a leading dot, Expires with its comma, Path, Secure.</summary>
    private static Task SetManyCookies(HttpContext context)
    {
        context.Response.Headers.Append("Set-Cookie", "lang=en; Domain=127.0.0.1; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT; HttpOnly");
        context.Response.Headers.Append("Set-Cookie", "panel=left; domain=.127.0.0.1; path=/settings");
        context.Response.Headers.Append("Set-Cookie", "theme=dark; DOMAIN=127.0.0.1; Secure; SameSite=Lax");
        context.Response.Headers.Append("Set-Cookie", "plain=1");
        return Html(context, "<p>cookies set</p>");
    }

    /// <summary>
    /// Echoes every message back with its type, until the client closes. With <c>?hello=1</c> it first sends the
    /// <c>Host</c> and <c>Origin</c> it saw, as JSON.
    /// </summary>
    private static async Task EchoWebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        if (context.Request.Query["hello"] == "1")
        {
            var hello = JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["host"] = context.Request.Host.Value ?? "",
                ["origin"] = context.Request.Headers.Origin.ToString(),
            });
            await socket.SendAsync(Encoding.UTF8.GetBytes(hello), WebSocketMessageType.Text, true, context.RequestAborted);
        }

        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, context.RequestAborted);
        }
    }

    /// <summary>Server-sent events: <c>?count=N</c> events (default 5), one every <c>?intervalMs=</c> (default 400).</summary>
    private static async Task EventsAsync(HttpContext context)
    {
        var count = int.TryParse(context.Request.Query["count"], CultureInfo.InvariantCulture, out var c) ? c : 5;
        var interval = int.TryParse(context.Request.Query["intervalMs"], CultureInfo.InvariantCulture, out var i) ? i : 400;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        // nginx must not buffer the stream.
        context.Response.Headers["X-Accel-Buffering"] = "no";
        for (var n = 1; n <= count; n++)
        {
            await context.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"id: {n}\ndata: tick {n}\n\n"), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            if (n < count)
            {
                await Task.Delay(interval, context.RequestAborted);
            }
        }
    }

    private string LoginForm(string? error) => $"""
        <h1 id="title">Device login</h1>
        {(error is null ? "" : $"<p id=\"error\">{error}</p>")}
        <form method="post" action="/login">
          <label>User <input id="username" name="username" autocomplete="off"></label>
          <label>Password <input id="password" name="password" type="password"></label>
          <button id="login" type="submit">Log in</button>
        </form>
        """;

    private static Task Html(HttpContext context, string body)
    {
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync($"<!doctype html><html><head><meta charset=\"utf-8\"><title>Test device</title></head><body>{body}</body></html>", Encoding.UTF8);
    }
}
