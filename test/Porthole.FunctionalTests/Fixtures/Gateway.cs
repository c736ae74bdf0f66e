namespace Porthole.FunctionalTests.Fixtures;

/// <summary>A running <c>porthole-agent run</c> for one enrolled device.</summary>
public sealed class Gateway(string name, string stateDirectory) : IAsyncDisposable
{
    private ProcessRunner? _agent;

    public string Name { get; } = name;

    public string StateDirectory { get; } = stateDirectory;

    public ProcessRunner Agent => _agent ?? throw new InvalidOperationException("agent not started");

    public void Start(bool disableRemoteAccess = false)
    {
        string[] arguments = disableRemoteAccess
            ? ["run", "--state-dir", StateDirectory, "--disable-remote-access"]
            : ["run", "--state-dir", StateDirectory];
        _agent = ProcessRunner.Start(Binaries.Agent, arguments);
    }

    public async ValueTask DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }
    }
}
