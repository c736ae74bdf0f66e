using Microsoft.AspNetCore.Identity;
using Porthole.Server.Data;

namespace Porthole.Server.Identity;

/// <summary>Salted, slow password hashes via ASP.NET Core Identity's <see cref="PasswordHasher{TUser}"/> (PBKDF2, versioned format).</summary>
public sealed class PasswordHashing
{
    private readonly PasswordHasher<User> _hasher = new();

    public string Hash(User user, string password) => _hasher.HashPassword(user, password);

    /// <summary>Verifies a password; <c>rehash</c> is set when the stored hash uses outdated parameters.</summary>
    public bool Verify(User user, string password, out bool rehash)
    {
        var result = _hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        rehash = result == PasswordVerificationResult.SuccessRehashNeeded;
        return result != PasswordVerificationResult.Failed;
    }
}
