using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Forwarder;

namespace Porthole.Server.WebProxy;

/// <summary>
/// Makes a browser on the session origin look, to the device, like a browser on the device's own network — and
/// the device's answers fit the session origin (docs/design/web-proxy.md, "Request rewriting", "Response rewriting").
/// </summary>
public sealed class DeviceTransformer(WebSession session, bool rewriteAbsoluteLinks, int rewriteBodyLimit) : HttpTransformer
{
    private static readonly string[] HopByHopFromDevice = ["Strict-Transport-Security", "Alt-Svc", "Public-Key-Pins"];

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var device = session.Device;
        proxyRequest.Headers.Host = device.HostHeader;
        RewriteOriginHeader(proxyRequest.Headers, "Origin");
        RewriteOriginHeader(proxyRequest.Headers, "Referer");
        StripPortholeCookies(proxyRequest.Headers);
        StripPortholeAuthorization(proxyRequest.Headers);
        if (rewriteAbsoluteLinks)
        {
            // Bodies are rewritten as text: ask the device not to compress them.
            proxyRequest.Headers.AcceptEncoding.Clear();
        }
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        var headers = httpContext.Response.Headers;
        if (headers.Location is { Count: 1 } location)
        {
            headers.Location = session.Device.RewriteLocation(location.ToString(), session.Origin);
        }

        if (headers.SetCookie.Count > 0)
        {
            headers.SetCookie = new StringValues([.. headers.SetCookie.Select(c => SetCookieRewriter.Rewrite(c!, session.Origin.IsSecure))]);
        }

        foreach (var name in HopByHopFromDevice)
        {
            headers.Remove(name);
        }

        if (proxyResponse is null || !ShouldRewriteBody(proxyResponse))
        {
            return true;
        }

        await RewriteBodyAsync(httpContext, proxyResponse, cancellationToken);
        return false;
    }

    private void RewriteOriginHeader(HttpRequestHeaders headers, string name)
    {
        if (!headers.TryGetValues(name, out var values))
        {
            return;
        }

        var value = values.First();
        var own = session.Origin.Value;
        if (value.Equals(own, StringComparison.OrdinalIgnoreCase) || value.StartsWith(own + "/", StringComparison.OrdinalIgnoreCase))
        {
            headers.Remove(name);
            headers.TryAddWithoutValidation(name, session.Device.Origin + value[own.Length..]);
        }
    }

    private static void StripPortholeCookies(HttpRequestHeaders headers)
    {
        if (!headers.TryGetValues("Cookie", out var values))
        {
            return;
        }

        var kept = values.SelectMany(v => v.Split(';'))
            .Select(c => c.Trim())
            .Where(c => c.Length > 0 && !SetCookieRewriter.IsPortholeCookie(c.Split('=', 2)[0]))
            .ToList();
        headers.Remove("Cookie");
        if (kept.Count > 0)
        {
            headers.TryAddWithoutValidation("Cookie", string.Join("; ", kept));
        }
    }

    /// <summary>
    /// The device's own basic/digest answers pass; a Porthole token never does. With a stored credential the
    /// browser's answer is dropped too: the handler answers the device's challenge itself.
    /// </summary>
    private void StripPortholeAuthorization(HttpRequestHeaders headers)
    {
        var authorization = headers.Authorization;
        if (authorization is null)
        {
            return;
        }

        if (session.UsesStoredCredential || authorization.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase)
            || (authorization.Parameter ?? "").Contains(Protocol.Security.SecretTokens.ApiTokenPrefix, StringComparison.Ordinal))
        {
            headers.Authorization = null;
        }
    }

    private bool ShouldRewriteBody(HttpResponseMessage response)
    {
        if (!rewriteAbsoluteLinks || response.Content.Headers.ContentEncoding.Count > 0)
        {
            return false;
        }

        var length = response.Content.Headers.ContentLength;
        return length is null or > 0 && (length ?? 0) <= rewriteBodyLimit && IsRewritableText(response.Content.Headers.ContentType?.MediaType);
    }

    private static bool IsRewritableText(string? mediaType) => mediaType is not null && (
        mediaType.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
        || mediaType.EndsWith("javascript", StringComparison.OrdinalIgnoreCase)
        || mediaType.EndsWith("json", StringComparison.OrdinalIgnoreCase)
        || mediaType.EndsWith("xml", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Reads the body (bounded: a body that turns out larger than the limit is passed on unchanged), replaces absolute
    /// references to the device and sends the result.
    /// </summary>
    private async Task RewriteBodyAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, CancellationToken cancellationToken)
    {
        // Latin-1 maps every byte to one character and back: whatever the page's real charset, the ASCII references
        // are found and every other byte comes out exactly as it went in.
        var encoding = Encoding.Latin1;
        await using var body = await proxyResponse.Content.ReadAsStreamAsync(cancellationToken);
        using var buffered = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while (buffered.Length <= rewriteBodyLimit && (read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffered.Write(chunk, 0, read);
        }

        var response = httpContext.Response;
        response.Headers.ContentLength = null;
        if (buffered.Length > rewriteBodyLimit)
        {
            // Too large to rewrite after all (no Content-Length up front): send it unchanged.
            buffered.Position = 0;
            await buffered.CopyToAsync(response.Body, cancellationToken);
            await body.CopyToAsync(response.Body, cancellationToken);
            return;
        }

        var text = session.Device.RewriteAbsoluteReferences(encoding.GetString(buffered.GetBuffer(), 0, (int)buffered.Length), session.Origin);
        var bytes = encoding.GetBytes(text);
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, cancellationToken);
    }
}

/// <summary>
/// Security headers on everything a session origin answers (the proxy middleware adds them as the response starts),
/// chosen not to break device pages. A device's own Content-Security-Policy stays; ours is one more policy, and
/// browsers enforce both.
/// </summary>
public static class WebProxyHeaders
{
    public static void Apply(IHeaderDictionary headers)
    {
        headers.XContentTypeOptions = "nosniff";

        // Devices frame their own pages (old UIs use framesets); nobody else may frame them.
        headers.XFrameOptions = "SAMEORIGIN";
        headers.Append("Content-Security-Policy", "frame-ancestors 'self'");

        // Keeps Referer within the device's pages (some check it) and never sends the session host elsewhere.
        headers["Referrer-Policy"] = "same-origin";
    }
}
