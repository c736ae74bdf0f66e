using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Porthole.Protocol.Api;
using Porthole.Protocol.Security;
using Porthole.Server.Audit;
using Porthole.Server.Data;
using Porthole.Server.Http;

namespace Porthole.Server.Identity;

/// <summary>
/// Password checks for every way in (API login, web login, password change): lock-out per user, slow-down after
/// failures, the same answer for unknown users and wrong passwords, and an audit record for every failure.
/// </summary>
public sealed class PasswordSignIn(PortholeDbContext db, PasswordHashing hashing, LoginThrottle throttle, AuditLog audit, TimeProvider time)
{
    /// <summary>The user if the password is right, else the problem to answer with.</summary>
    public async Task<(User? User, ProblemHttpResult? Problem)> VerifyAsync(string? username, string? password, string? clientAddress, string action, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(username) || string.IsNullOrEmpty(password) || username.Length > 128 || password.Length > 1024)
        {
            return (null, ApiProblem.Validation("username and password are required"));
        }

        if (throttle.IsLockedOut(username))
        {
            await audit.WriteAsync("user:" + username, action, null, AuditOutcomes.Denied, "locked out after repeated failures", clientAddress, cancellationToken);
            return (null, ApiProblem.Create(StatusCodes.Status429TooManyRequests, ProblemCodes.LockedOut, "Locked out",
                "too many failed logins for this user; try again in a few minutes"));
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Username == username, cancellationToken);
        if (user is null || user.Disabled || !hashing.Verify(user, password, out var rehash))
        {
            var delay = throttle.RecordFailure(username);
            await audit.WriteAsync("user:" + username, action, null, AuditOutcomes.Failure, user?.Disabled == true ? "account disabled" : "bad username or password", clientAddress, cancellationToken);
            await Task.Delay(delay, time, cancellationToken);

            // One message for every failure, so the answer does not reveal which usernames exist.
            return (null, ApiProblem.Create(StatusCodes.Status401Unauthorized, ProblemCodes.Unauthorized, "Login failed", "wrong username or password"));
        }

        if (rehash)
        {
            user.PasswordHash = hashing.Hash(user, password);
        }

        return (user, null);
    }

    /// <summary>
    /// Changes a password after <see cref="VerifyAsync"/> succeeded: the policy is checked (a refusal is audited) and
    /// every token of the user is revoked, since whoever knew the old password may hold one. Saves.
    /// </summary>
    /// <returns><c>null</c> on success, else why the new password was refused.</returns>
    public async Task<string?> ChangePasswordAsync(User user, string currentPassword, string? newPassword, string? clientAddress, CancellationToken cancellationToken)
    {
        var refusal = PasswordPolicy.Check(user.Username, newPassword)
            ?? (newPassword == currentPassword ? "the new password must differ from the current one" : null);
        if (refusal is not null)
        {
            await audit.WriteAsync("user:" + user.Username, "auth.password-change", "user:" + user.Username, AuditOutcomes.Failure, refusal, clientAddress, cancellationToken);
            return refusal;
        }

        user.PasswordHash = hashing.Hash(user, newPassword!);
        user.MustChangePassword = false;
        var now = time.GetUtcNow();
        await db.ApiTokens.Where(t => t.UserId == user.Id && t.RevokedAt == null).ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, now), cancellationToken);
        audit.Add("user:" + user.Username, "auth.password-change", "user:" + user.Username, detail: "all existing tokens revoked", clientAddress: clientAddress);
        await db.SaveChangesAsync(cancellationToken);
        return null;
    }

    /// <summary>Issues a new API token for <paramref name="user"/> (added to the unit of work, not saved); returns the secret.</summary>
    public string IssueToken(User user, string name, TimeSpan? lifetime, out ApiToken token)
    {
        var now = time.GetUtcNow();
        var secret = SecretTokens.Create(SecretTokens.ApiTokenPrefix);
        token = new ApiToken
        {
            Id = Guid.CreateVersion7().ToString("N"),
            UserId = user.Id,
            Name = name,
            SecretHash = SecretTokens.Hash(secret),
            CreatedAt = now,
            ExpiresAt = lifetime is { } l ? now + l : null,
        };
        db.ApiTokens.Add(token);
        return secret;
    }
}
