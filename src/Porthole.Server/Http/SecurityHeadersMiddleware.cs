namespace Porthole.Server.Http;

/// <summary>
/// Browser hardening headers on every response: a Content-Security-Policy that allows only this origin's own scripts
/// and connections (the console has no inline scripts), no framing (clickjacking), no MIME sniffing, no referrer
/// leaking paths to other sites.
/// </summary>
public sealed class SecurityHeadersMiddleware(RequestDelegate next)
{
    // style-src allows inline style attributes, which the pages use for small layout tweaks; scripts stay 'self' only.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XFrameOptions = "DENY";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";

            // A device page opened from the console (web proxy) must not get a handle on the console's window.
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            return Task.CompletedTask;
        });
        return next(context);
    }
}
