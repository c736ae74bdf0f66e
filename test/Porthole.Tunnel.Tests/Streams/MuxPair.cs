using Porthole.Tunnel.Streams;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Streams;

/// <summary>
/// A streams connection over loopback TCP: the server's <see cref="StreamMux"/> on a WebSocket object at its server end
/// (the server's form when the frame relay is off), and the agent's as it runs, reading and writing client frames on
/// the connection itself; both reading.
/// </summary>
internal sealed class MuxPair : IAsyncDisposable
{
    private MuxPair(WebSocketPair connection)
    {
        Connection = connection;
        Server = new StreamMux(connection.Server, "agent");
        Agent = new StreamMux(connection.Sockets.RightStream, AgentPingInterval, "server");
        ServerRun = Server.RunAsync(CancellationToken.None);
        AgentRun = Agent.RunAsync(CancellationToken.None);
    }

    /// <summary>How often the agent's side pings a quiet connection.</summary>
    public static readonly TimeSpan AgentPingInterval = TimeSpan.FromSeconds(15);

    public WebSocketPair Connection { get; }

    /// <summary>The server's mux: it reserves the streams; its peer is the agent.</summary>
    public StreamMux Server { get; }

    /// <summary>The agent's mux: it accepts the streams the server reserved.</summary>
    public StreamMux Agent { get; }

    public Task<string> ServerRun { get; }

    public Task<string> AgentRun { get; }

    public static async Task<MuxPair> CreateAsync() => new(await WebSocketPair.CreateAsync());

    /// <summary>
    /// Opens a stream as the server and the agent will: reserve, accept, acknowledge (which widens the server's window),
    /// wait for the acknowledgement, and widen the agent's window: <see cref="MuxStream.Window"/> each way.
    /// </summary>
    public async Task<(MuxStream Server, MuxStream Agent)> OpenAsync()
    {
        var server = Server.Reserve();
        var agent = Agent.Accept(server.Id);
        await agent.AcknowledgeAsync(CancellationToken.None);
        Assert.True(await server.Accepted.WaitAsync(Timeouts.Short), $"stream {server.Id} was not accepted");
        await server.OpenWindowAsync();
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
