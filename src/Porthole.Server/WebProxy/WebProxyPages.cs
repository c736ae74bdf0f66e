using System.Net;

namespace Porthole.Server.WebProxy;

/// <summary>The proxy's own short pages on a session origin (errors, "session ended"): no scripts, nothing from elsewhere.</summary>
public static class WebProxyPages
{
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        var response = context.Response;
        response.Clear();
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'";
        var (t, d) = (WebUtility.HtmlEncode(title), WebUtility.HtmlEncode(detail));
        await response.WriteAsync($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Porthole: {t}</title></head>
            <body style="font-family: sans-serif; margin: 3em; max-width: 40em">
            <h1 style="font-size: 1.3em">{t}</h1>
            <p>{d}</p>
            <p style="color: #666">Porthole web proxy</p>
            </body></html>
            """);
    }
}
