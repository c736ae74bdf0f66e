using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Porthole.Server.Hosting;
using Yarp.ReverseProxy.Forwarder;

namespace Porthole.Server.WebProxy;

/// <summary>
/// Serves session hosts (<c>&lt;id&gt;.&lt;domain&gt;</c>). It runs first: a request to a session host never reaches
/// the console's middleware, cookies or routes, and the console's routes never answer on a session host.
/// </summary>
public sealed class WebProxyMiddleware(
    RequestDelegate next,
    WebSessionRegistry registry,
    IHttpForwarder forwarder,
    WebAccessLog accessLog,
    TimeProvider time,
    IOptions<PortholeServerOptions> options,
    ILogger<WebProxyMiddleware> logger)
{
    /// <summary>The forwarder's destination: a placeholder, as every connection is a tunnel made by the session's connector.</summary>
    private const string DestinationPrefix = "http://device.porthole.invalid";

    private static readonly ForwarderRequestConfig RequestConfig = new()
    {
        // Embedded servers speak HTTP/1.x; long polls and event streams may stay quiet for minutes.
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        ActivityTimeout = TimeSpan.FromMinutes(10),
    };

    public Task InvokeAsync(HttpContext context)
    {
        // Not async for every other request: an awaiting state machine here would live as long as the request, which
        // for a session's WebSocket is the session (≈0.3 KB per connection, two per session).
        var settings = options.Value.WebProxy;
        return TrySessionLabel(context.Request.Host.Host, settings.Domain, out var id)
            ? ServeSessionHostAsync(context, id, settings)
            : next(context);
    }

    private async Task ServeSessionHostAsync(HttpContext context, string id, WebProxyOptions settings)
    {
        context.Response.OnStarting(() =>
        {
            WebProxyHeaders.Apply(context.Response.Headers);
            return Task.CompletedTask;
        });

        var session = await registry.FindAsync(id);
        if (session is null)
        {
            await WebProxyPages.WriteAsync(context, StatusCodes.Status404NotFound, "Session ended",
                "This device web session has ended or does not exist. Open the device's web page again from the Porthole console.");
            return;
        }

        if (context.Request.Path.Equals(WebSessionLauncher.EnterPath, StringComparison.Ordinal))
        {
            await EnterAsync(context, session);
            return;
        }

        if (!session.IsAuthorized(context.Request.Cookies[CookieName(session)]))
        {
            await WebProxyPages.WriteAsync(context, StatusCodes.Status401Unauthorized, "Not signed in to this session",
                "This page belongs to a device web session opened from the Porthole console. Open the device's web page from the console to get in.");
            return;
        }

        await ForwardAsync(context, session, settings);
    }

    /// <summary>Whether <paramref name="host"/> is <c>&lt;session id&gt;.&lt;domain&gt;</c>; only well-formed ids count.</summary>
    internal static bool TrySessionLabel(string host, string domain, out string id)
    {
        id = "";
        if (host.Length != WebSessionId.Length + 1 + domain.Length
            || host[WebSessionId.Length] != '.'
            || !host.EndsWith(domain, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var label = host[..WebSessionId.Length].ToLowerInvariant();
        if (!WebSessionId.IsWellFormed(label))
        {
            return false;
        }

        id = label;
        return true;
    }

    private static string CookieName(WebSession session) => session.Origin.IsSecure ? WebSessionCookie.Name : WebSessionCookie.PlainName;

    /// <summary>Exchanges the single-use ticket for the session cookie and sends the browser to the device's start page.</summary>
    private async Task EnterAsync(HttpContext context, WebSession session)
    {
        var redemption = session.RedeemTicket(context.Request.Query["ticket"].ToString(), time.GetUtcNow());
        if (redemption.CookieSecret is null)
        {
            await WebProxyPages.WriteAsync(context, StatusCodes.Status403Forbidden, "Link not valid", redemption.Error!);
            return;
        }

        context.Response.Cookies.Append(CookieName(session), redemption.CookieSecret, new CookieOptions
        {
            HttpOnly = true,
            Secure = session.Origin.IsSecure,
            Path = "/",

            // Lax, not Strict: the first visit arrives by a navigation from the console, another site.
            SameSite = SameSiteMode.Lax,
            IsEssential = true,
        });
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Redirect("/");
        session.Touch(time.GetUtcNow());
    }

    private async Task ForwardAsync(HttpContext context, WebSession session, WebProxyOptions settings)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = settings.MaxRequestBodyBytes;
        }

        var started = Stopwatch.GetTimestamp();
        var requestBody = new CountingStream(context.Request.Body);
        var responseBody = new CountingStream(context.Response.Body);
        context.Request.Body = requestBody;
        context.Response.Body = responseBody;
        session.Touch(time.GetUtcNow());

        ForwarderError error;
        using (session.BeginRequest())
        {
            error = await forwarder.SendAsync(context, DestinationPrefix, session.Invoker, RequestConfig, session.Transformer, session.Ended);
        }

        if (error != ForwarderError.None)
        {
            await ReportFailureAsync(context, session, error);
        }

        var path = context.Request.Path.Value ?? "/";
        session.RecordRequest(requestBody.Count, responseBody.Count, time.GetUtcNow());
        accessLog.Record(session.Id, time.GetUtcNow(), context.Request.Method, path, context.Response.StatusCode, requestBody.Count, responseBody.Count, Stopwatch.GetElapsedTime(started));
    }

    private async Task ReportFailureAsync(HttpContext context, WebSession session, ForwarderError error)
    {
        var exception = context.GetForwarderErrorFeature()?.Exception;
        var refusal = Http.ExceptionChain.Find<WebProxyException>(exception);
        WebProxyLog.ForwardFailed(logger, session.Id, context.Request.Method, context.Request.Path.Value ?? "/", refusal?.Message ?? $"{error}: {exception?.Message}");
        if (context.Response.HasStarted)
        {
            return;
        }

        if (refusal is not null)
        {
            // A proxy that cannot reach its upstream answers 502 (the API's 409 "device offline" means the same here).
            var problem = refusal.Problem.ProblemDetails;
            var pageStatus = problem.Status is null or StatusCodes.Status409Conflict ? StatusCodes.Status502BadGateway : problem.Status.Value;
            await WebProxyPages.WriteAsync(context, pageStatus, problem.Title is null or "Conflict" ? "Device not reachable" : problem.Title, problem.Detail ?? "");
            return;
        }

        if (session.EndReason is { } ended)
        {
            await WebProxyPages.WriteAsync(context, StatusCodes.Status410Gone, "Session ended", $"This device web session has ended ({ended}).");
            return;
        }

        var (status, detail) = error switch
        {
            ForwarderError.RequestTimedOut or ForwarderError.ResponseBodyCanceled => (StatusCodes.Status504GatewayTimeout, "The device did not answer in time."),
            ForwarderError.RequestBodyClient or ForwarderError.RequestCanceled => (StatusCodes.Status400BadRequest, "The request was cancelled by the browser."),
            _ => (StatusCodes.Status502BadGateway, $"The request to the device failed ({error}); the device may have closed the connection or sent an answer that is not HTTP."),
        };
        await WebProxyPages.WriteAsync(context, status, "Device error", detail);
    }
}
