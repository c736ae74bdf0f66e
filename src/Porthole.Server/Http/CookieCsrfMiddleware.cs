using Microsoft.AspNetCore.Antiforgery;
using Porthole.Protocol.Api;
using Porthole.Server.Identity;

namespace Porthole.Server.Http;

/// <summary>
/// CSRF protection for the API when a browser calls it with its session cookie: a state-changing request must
/// carry the antiforgery token in the <c>RequestVerificationToken</c> header. Bearer-token requests are not
/// affected (a browser never attaches those on its own). Razor Pages forms validate their own tokens.
/// WebSocket upgrades are exempt: a form cannot forge one, browsers cannot add the header to one, and over HTTP/2
/// they arrive as CONNECT (RFC 8441), which would otherwise look like a write; browser WebSocket routes check
/// <c>Origin</c> instead.
/// </summary>
public sealed class CookieCsrfMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context, IAntiforgery antiforgery)
    {
        // Only a checked request gets an async state machine: one awaiting next() would live as long as the request,
        // which for a session's WebSocket is the session.
        return context.Request.Path.StartsWithSegments("/api")
            && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !HttpMethods.IsOptions(context.Request.Method)
            && !context.WebSockets.IsWebSocketRequest
            && context.User.Identity is { IsAuthenticated: true, AuthenticationType: WebSessions.SchemeName }
                ? CheckThenNextAsync(context, antiforgery)
                : next(context);
    }

    private async Task CheckThenNextAsync(HttpContext context, IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            await ApiProblem.WriteAsync(context, StatusCodes.Status400BadRequest, ProblemCodes.Validation, "CSRF check failed",
                "a request made with the session cookie must carry the page's antiforgery token (RequestVerificationToken header)");
            return;
        }

        await next(context);
    }
}
