namespace Porthole.Server.Identity;

/// <summary>
/// Password rules: long rather than complicated (NIST SP 800-63B §5.1.1): at least 12 characters, at most 256,
/// not containing the username, not one repeated character.
/// </summary>
public static class PasswordPolicy
{
    public const int MinimumLength = 12;

    /// <summary><c>null</c> when acceptable, else what is wrong.</summary>
    public static string? Check(string username, string? password)
    {
        if (string.IsNullOrEmpty(password) || password.Length < MinimumLength)
        {
            return $"the password must have at least {MinimumLength} characters";
        }

        if (password.Length > 256)
        {
            return "the password must have at most 256 characters";
        }

        if (password.Contains(username, StringComparison.OrdinalIgnoreCase))
        {
            return "the password must not contain the username";
        }

        return password.Distinct().Count() == 1 ? "the password must not be one repeated character" : null;
    }
}
