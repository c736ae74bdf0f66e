using System.Text.Json;

namespace Porthole.Cli.Configuration;

/// <summary>Reads and writes the config file: <c>$PORTHOLE_CONFIG</c>, else <c>~/.config/porthole/config.json</c>.</summary>
public sealed class CliConfigStore(string path)
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The file this store reads and writes.</summary>
    public string Path { get; } = path;

    /// <summary>The store at the path the environment selects.</summary>
    public static CliConfigStore Default()
    {
        var configured = Environment.GetEnvironmentVariable("PORTHOLE_CONFIG");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new CliConfigStore(System.IO.Path.GetFullPath(configured));
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return new CliConfigStore(System.IO.Path.Combine(home, ".config", "porthole", "config.json"));
    }

    /// <summary>The saved config, or <c>null</c> when there is no file.</summary>
    public CliConfig? Load()
    {
        try
        {
            using var stream = File.OpenRead(Path);
            return JsonSerializer.Deserialize(stream, CliConfigJsonContext.Default.CliConfig);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (JsonException ex)
        {
            throw new CliException($"the config file {Path} is not valid JSON ({ex.Message}); fix or delete it and log in again");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read the config file {Path}: {ex.Message}");
        }
    }

    /// <summary>
    /// Writes <paramref name="config"/> so that no other user can ever read the token: a temporary file created
    /// 0600 (the mode is set at creation, not after the secret is in it) replaces the old file atomically.
    /// </summary>
    public void Save(CliConfig config)
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        var temporary = Path + ".tmp-" + Environment.ProcessId;
        try
        {
            // A stale temporary file would keep its old mode; creation must be what sets 0600.
            TryDelete(temporary);
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, OwnerOnlyDirectory);
            }

            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnlyFile;
            }

            using (var stream = new FileStream(temporary, options))
            {
                JsonSerializer.Serialize(stream, config, CliConfigJsonContext.Default.CliConfig);
            }

            File.Move(temporary, Path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new CliException($"cannot write the config file {Path}: {ex.Message}");
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the original error is the one worth reporting.
        }
    }
}
