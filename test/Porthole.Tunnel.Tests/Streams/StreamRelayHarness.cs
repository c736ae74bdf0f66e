using System.Net.WebSockets;
using Porthole.Tunnel.Relay;
using Porthole.Tunnel.Streams;
using Porthole.Tunnel.Tests.Support;

namespace Porthole.Tunnel.Tests.Streams;

/// <summary>
/// Sessions relayed by <see cref="StreamRelay"/> as the server will run them: one streams connection (a real WebSocket
/// over loopback TCP) whose server end is read on its pipes by the server's <see cref="StreamMux"/> and whose client end
/// is the agent's mux, both as they run; each session adds a client WebSocket pair, a stream on the connection, and the relay between the
/// client's leg and the stream. Tests play the client (<see cref="Session.Client"/>, or raw bytes on
/// <see cref="Session.RawClient"/>) and the agent (<see cref="Session.Agent"/>).
/// </summary>
internal sealed class StreamRelayHarness : IAsyncDisposable
{
    private readonly List<Session> _sessions = [];

    private StreamRelayHarness(WebSocketPair shared)
    {
        Shared = shared;
        ServerMux = new StreamMux(shared.ServerLeg("agent"), "agent");
        AgentMux = new StreamMux(shared.Sockets.RightStream, MuxPair.AgentPingInterval, "server");
        ServerRun = ServerMux.RunAsync(CancellationToken.None);
        AgentRun = AgentMux.RunAsync(CancellationToken.None);
    }

    /// <summary>The streams connection; <see cref="WebSocketPair.AbortClient"/> kills it from the agent's end.</summary>
    public WebSocketPair Shared { get; }

    /// <summary>The server's mux, on the connection's pipes; its peer is the agent.</summary>
    public StreamMux ServerMux { get; }

    /// <summary>The agent's mux, on the connection itself, as the agent runs it.</summary>
    public StreamMux AgentMux { get; }

    public Task<string> ServerRun { get; }

    public Task<string> AgentRun { get; }

    /// <param name="wrapSharedServerStream">Wraps the server's end of the streams connection (to break its writes, say).</param>
    public static async Task<StreamRelayHarness> CreateAsync(Func<Stream, Stream>? wrapSharedServerStream = null) =>
        new(await WebSocketPair.CreateAsync(wrapServerStream: wrapSharedServerStream));

    /// <summary>Opens a stream as the server and the agent do (reserve, accept, acknowledge) and starts its relay.</summary>
    /// <param name="clientSocketBufferSize">Fixed socket buffers for the client's connection, so back-pressure shows early.</param>
    /// <param name="wrapClientServerStream">Wraps the server's end of the client's connection.</param>
    public async Task<Session> OpenAsync(
        SessionLifetime? lifetime = null, int? clientSocketBufferSize = null, Func<Stream, Stream>? wrapClientServerStream = null, CancellationToken cancellationToken = default)
    {
        var client = await WebSocketPair.CreateAsync(clientSocketBufferSize, wrapClientServerStream);
        var stream = ServerMux.Reserve();
        var agent = AgentMux.Accept(stream.Id);
        await agent.AcknowledgeAsync(CancellationToken.None);
        Assert.True(await stream.Accepted.WaitAsync(Timeouts.Short), $"stream {stream.Id} was not accepted");
        await stream.OpenWindowAsync();
        var session = new Session(client, stream, agent, StreamRelay.RunAsync(client.ServerLeg("client"), stream, lifetime, cancellationToken));
        _sessions.Add(session);
        return session;
    }

    /// <summary>Every client vanishes and the connection stops, so every relay ends; never throws (a test's own failure stays visible).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var session in _sessions)
        {
            session.ClientPair.AbortClient();
        }

        await ServerMux.DisposeAsync();
        await AgentMux.DisposeAsync();
        await Task.WhenAny(Task.WhenAll(_sessions.Select(s => (Task)s.Relay).Append(ServerRun).Append(AgentRun)), Task.Delay(Timeouts.Short));
        foreach (var session in _sessions)
        {
            session.ClientPair.Dispose();
        }

        Shared.Dispose();
    }

    /// <summary>One relayed session.</summary>
    /// <param name="ClientPair">The client's connection; the relay holds its server end as a leg.</param>
    /// <param name="Stream">The server's end of the session's stream, which the relay holds.</param>
    /// <param name="Agent">The agent's end of the stream, played by the test.</param>
    /// <param name="Relay">The running relay.</param>
    internal sealed record Session(WebSocketPair ClientPair, MuxStream Stream, MuxStream Agent, Task<RelayResult> Relay)
    {
        /// <summary>The client, as a WebSocket.</summary>
        public WebSocket Client => ClientPair.Client;

        /// <summary>The client's socket, for frames a WebSocket would not send (then <see cref="Client"/> is left unused).</summary>
        public Stream RawClient => ClientPair.Sockets.RightStream;
    }
}
