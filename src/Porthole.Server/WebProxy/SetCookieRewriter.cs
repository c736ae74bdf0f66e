namespace Porthole.Server.WebProxy;

/// <summary>
/// Moves a device's cookie to the session host: the <c>Domain</c> attribute goes (the cookie becomes host-only, so it
/// can never reach the console or another session), and on a plain-HTTP session origin so does <c>Secure</c>, which
/// the browser would otherwise refuse to store. Name, value, <c>Path</c>, expiry and <c>SameSite</c> are kept.
/// </summary>
public static class SetCookieRewriter
{
    public static string Rewrite(string setCookie, bool secureOrigin)
    {
        var parts = setCookie.Split(';');
        var kept = new List<string>(parts.Length) { parts[0].Trim() };
        foreach (var part in parts.AsSpan(1))
        {
            var attribute = part.Trim();
            var name = attribute.Split('=', 2)[0].Trim();
            if (name.Equals("Domain", StringComparison.OrdinalIgnoreCase)
                || (!secureOrigin && name.Equals("Secure", StringComparison.OrdinalIgnoreCase))
                || attribute.Length == 0)
            {
                continue;
            }

            kept.Add(attribute);
        }

        return string.Join("; ", kept);
    }

    /// <summary>Whether a cookie is one of Porthole's own (console or web-session), which must never reach a device.</summary>
    public static bool IsPortholeCookie(string name) =>
        name.StartsWith("porthole_", StringComparison.Ordinal) || name.Equals(WebSessionCookie.Name, StringComparison.Ordinal);
}
