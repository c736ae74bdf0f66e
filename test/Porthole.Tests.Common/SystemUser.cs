using System.Globalization;
using System.Security.Cryptography;

namespace Porthole.Tests.Common;

/// <summary>
/// A throwaway local account with a random password, for tests of password authentication against a real sshd
/// (which checks passwords against the system's accounts). Needs root, as the test command runs in CI; removed on dispose.
/// </summary>
public sealed class SystemUser : IAsyncDisposable
{
    public string Name { get; } = "ph" + RandomNumberGenerator.GetHexString(8, lowercase: true);

    public string Password { get; } = "Pw-" + RandomNumberGenerator.GetHexString(16, lowercase: true);

    public static async Task<SystemUser> CreateAsync()
    {
        var user = new SystemUser();
        var add = await ProcessRunner.RunAsync("useradd", ["--no-create-home", "--home-dir", "/tmp", "--shell", "/bin/sh", user.Name]);
        if (add.ExitCode != 0)
        {
            throw new InvalidOperationException("useradd failed (the tests run as root in CI): " + add);
        }

        var password = await ProcessRunner.RunAsync("chpasswd", [], stdin: string.Create(CultureInfo.InvariantCulture, $"{user.Name}:{user.Password}\n"));
        if (password.ExitCode != 0)
        {
            await user.DisposeAsync();
            throw new InvalidOperationException("chpasswd failed: " + password);
        }

        return user;
    }

    public async ValueTask DisposeAsync() => await ProcessRunner.RunAsync("userdel", [Name]);
}
