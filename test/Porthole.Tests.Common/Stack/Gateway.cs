using Xunit;
namespace Porthole.Tests.Common.Stack;

/// <summary>A running <c>porthole-agent run</c> for one enrolled device.</summary>
public sealed class Gateway(string name, string stateDirectory) : IAsyncDisposable
{
    private ProcessRunner? _agent;

    public string Name { get; } = name;

    public string StateDirectory { get; } = stateDirectory;

    public ProcessRunner Agent => _agent ?? throw new InvalidOperationException("agent not started");

    /// <summary>Extra <c>porthole-agent run</c> arguments, e.g. <c>--keep-alive-interval 1</c>; kept for restarts.</summary>
    public IReadOnlyList<string> ExtraArguments { get; set; } = [];

    public void Start(bool disableRemoteAccess = false, IReadOnlyDictionary<string, string?>? environment = null)
    {
        string[] arguments = disableRemoteAccess
            ? ["run", "--state-dir", StateDirectory, "--disable-remote-access", .. ExtraArguments]
            : ["run", "--state-dir", StateDirectory, .. ExtraArguments];
        _agent = ProcessRunner.Start(Binaries.Agent, arguments, environment ?? NoProxy);
    }

    /// <summary>Starts the agent again with the same state and arguments (after it was killed); the old process is reaped first.</summary>
    public async Task RestartAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }

        Start();
    }

    /// <summary>The agent's environment without any proxy inherited from the machine running the tests.</summary>
    public static IReadOnlyDictionary<string, string?> NoProxy { get; } = new Dictionary<string, string?>
    {
        ["HTTPS_PROXY"] = null,
        ["https_proxy"] = null,
        ["HTTP_PROXY"] = null,
        ["http_proxy"] = null,
        ["ALL_PROXY"] = null,
        ["all_proxy"] = null,
        ["NO_PROXY"] = null,
        ["no_proxy"] = null,
    };

    public async ValueTask DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }
    }
}
