namespace Porthole.Tunnel.Transport;

/// <summary>
/// Lets socket completions run their continuation on the runtime's event thread instead of queueing it to the thread
/// pool (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>). Porthole's processes mostly copy bytes from one
/// socket to another, so the hop to the pool was pure cost: in a same-run A/B on 2 cores it cut the whole chain's CPU
/// per GB by 8–9 %, round-trip time p50 by 40 % and raised one-stream throughput 7–27 % (docs/performance.md). Code on
/// those paths must never block; the pumps only await. Used by the agent and the CLI only: the server runs SSH.NET for
/// browser terminals, whose blocking writes into its loopback bridge then stalled the event thread that bridge needs
/// (the SSH terminal functional tests hung).
/// </summary>
public static class InlineSocketCompletions
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Turns the setting on unless the environment already chose (<c>0</c> switches it off). Call it first thing in
    /// <c>Main</c>: the runtime reads the variable once, when the first socket is created.
    /// </summary>
    public static void Enable()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }
}
