using Porthole.Tunnel.Streams;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Streams;

/// <summary>
/// A streams connection as it will run: one real WebSocket over loopback TCP, the server's <see cref="StreamMux"/> on
/// its server end and the agent's on its client end, both reading.
/// </summary>
internal sealed class MuxPair : IAsyncDisposable
{
    private MuxPair(WebSocketPair connection)
    {
        Connection = connection;
        Server = new StreamMux(connection.Server, "agent");
        Agent = new StreamMux(connection.Client, "server");
        ServerRun = Server.RunAsync(CancellationToken.None);
        AgentRun = Agent.RunAsync(CancellationToken.None);
    }

    public WebSocketPair Connection { get; }

    /// <summary>The server's mux: it reserves the streams; its peer is the agent.</summary>
    public StreamMux Server { get; }

    /// <summary>The agent's mux: it accepts the streams the server reserved.</summary>
    public StreamMux Agent { get; }

    public Task<string> ServerRun { get; }

    public Task<string> AgentRun { get; }

    public static async Task<MuxPair> CreateAsync() => new(await WebSocketPair.CreateAsync());

    /// <summary>Opens a stream as the server and the agent will: reserve, accept, acknowledge, and wait for the acknowledgement.</summary>
    public async Task<(MuxStream Server, MuxStream Agent)> OpenAsync()
    {
        var server = Server.Reserve();
        var agent = Agent.Accept(server.Id);
        await agent.AcknowledgeAsync(CancellationToken.None);
        Assert.True(await server.Accepted.WaitAsync(Timeouts.Short), $"stream {server.Id} was not accepted");
        return (server, agent);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Agent.DisposeAsync();
        await Task.WhenAll(ServerRun, AgentRun).WaitAsync(Timeouts.Short);
        Connection.Dispose();
    }
}
