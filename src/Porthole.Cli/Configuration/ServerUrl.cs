namespace Porthole.Cli.Configuration;

/// <summary>Parsing and comparing server base URLs as users type them.</summary>
public static class ServerUrl
{
    /// <summary>Trims whitespace and trailing slashes, so equal servers compare equal and print cleanly.</summary>
    public static string? Normalize(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null : text.Trim().TrimEnd('/');

    /// <summary>
    /// The base address for API calls (always ending in '/', so relative paths keep any path prefix).
    /// </summary>
    public static Uri Parse(string text)
    {
        if (!Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw CliException.Usage($"'{text}' is not a server URL; use e.g. https://porthole.example:8443");
        }

        return uri;
    }

    /// <summary>Whether two configured server strings name the same server.</summary>
    public static bool Same(string? a, string? b) =>
        Normalize(a) is { } left && Normalize(b) is { } right && string.Equals(left, right, StringComparison.OrdinalIgnoreCase);
}
