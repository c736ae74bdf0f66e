using System.Text.Json;

namespace Porthole.Agent.State;

/// <summary>Reads and writes <c>agent.json</c> in the state directory. The file holds the device credential: 0600.</summary>
public sealed class AgentStateStore(string stateDirectory)
{
    public string FilePath { get; } = Path.Combine(Path.GetFullPath(stateDirectory), "agent.json");

    public AgentState? Load()
    {
        if (!File.Exists(FilePath))
        {
            return null;
        }

        using var stream = File.OpenRead(FilePath);
        return JsonSerializer.Deserialize(stream, AgentStateJsonContext.Default.AgentState);
    }

    public void Save(AgentState state)
    {
        var directory = Path.GetDirectoryName(FilePath)!;
        Directory.CreateDirectory(directory);
        var temporary = FilePath + ".tmp";

        // Created with owner-only permissions before the secret is written, then renamed into place atomically.
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(stream, state, AgentStateJsonContext.Default.AgentState);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, FilePath, overwrite: true);
    }
}
