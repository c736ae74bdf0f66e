using System.Text.RegularExpressions;

namespace Porthole.Server.Http;

/// <summary>Rules for user-chosen names (devices, endpoints, groups, tags).</summary>
public static partial class Names
{
    /// <summary>
    /// Letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters. No '/', so
    /// <c>device/endpoint</c> is unambiguous on the command line.
    /// </summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex NamePattern();

    public static bool IsValid(string? name) => name is not null && NamePattern().IsMatch(name);

    public static string Rule(string what) => $"{what} must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit";

    /// <summary>A host name or IP literal as the gateway would dial it: no spaces, no scheme, at most 253 characters.</summary>
    public static bool IsValidHost(string? host) =>
        !string.IsNullOrWhiteSpace(host) && host.Length <= 253 && !host.Any(char.IsWhiteSpace) && !host.Contains('/', StringComparison.Ordinal);
}
