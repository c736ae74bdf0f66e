using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Porthole.Server.Data;

namespace Porthole.Server.Identity;

/// <summary>
/// Creates the first user, <c>admin</c>, when the store has none. The password comes from
/// <c>PORTHOLE_ADMIN_PASSWORD</c>; otherwise one is generated and printed once on the console (never logged),
/// and must be changed at first login.
/// </summary>
public static class AdminBootstrap
{
    public const string PasswordVariable = "PORTHOLE_ADMIN_PASSWORD";

    /// <summary>Creates or refreshes the built-in roles, so a new permission reaches them on upgrade.</summary>
    public static async Task EnsureBuiltInRolesAsync(PortholeDbContext db, CancellationToken cancellationToken)
    {
        foreach (var name in BuiltInRoles.Names)
        {
            var id = BuiltInRoles.IdOf(name);
            var role = await db.Roles.SingleOrDefaultAsync(r => r.Id == id, cancellationToken);
            if (role is null)
            {
                role = new Role { Id = id, Name = name, BuiltIn = true };
                db.Roles.Add(role);
            }

            role.Permissions = [.. BuiltInRoles.PermissionsOf(name)];
            role.Description = BuiltInRoles.DescriptionOf(name);
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    public static async Task EnsureAdminAsync(PortholeDbContext db, PasswordHashing hashing, TimeProvider time, TextWriter console, CancellationToken cancellationToken)
    {
        if (await db.Users.AnyAsync(cancellationToken))
        {
            return;
        }

        var configured = Environment.GetEnvironmentVariable(PasswordVariable);
        var generated = string.IsNullOrEmpty(configured);
        var password = generated ? GeneratePassword() : configured!;
        if (!generated && PasswordPolicy.Check("admin", password) is { } weak)
        {
            throw new InvalidOperationException($"{PasswordVariable} is not acceptable: {weak}.");
        }

        var admin = new User
        {
            Id = Guid.CreateVersion7().ToString("N"),
            Username = "admin",
            PasswordHash = "",
            CreatedAt = time.GetUtcNow(),
            MustChangePassword = generated,
        };
        admin.PasswordHash = hashing.Hash(admin, password);
        admin.Grants.Add(new RoleGrant { Id = Guid.CreateVersion7().ToString("N"), UserId = admin.Id, RoleId = BuiltInRoles.IdOf(BuiltInRoles.Administrator) });
        db.Users.Add(admin);
        await db.SaveChangesAsync(cancellationToken);

        if (generated)
        {
            await console.WriteLineAsync($"Created user 'admin' with generated password: {password}");
            await console.WriteLineAsync("  (shown once; set PORTHOLE_ADMIN_PASSWORD before the first start to choose it)");
        }
        else
        {
            await console.WriteLineAsync($"Created user 'admin' with the password from {PasswordVariable}.");
        }
    }

    private static string GeneratePassword()
    {
        // 20 characters from an alphabet without look-alikes: ~114 bits.
        const string Alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return RandomNumberGenerator.GetString(Alphabet, 20);
    }
}
