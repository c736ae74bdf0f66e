using Porthole.Agent;

Porthole.Tunnel.Transport.InlineSocketCompletions.Enable();
if (Porthole.Tunnel.Transport.ClientTls.Problem() is { } problem)
{
    await Console.Error.WriteLineAsync("porthole-agent: " + problem);
    return 2;
}

return await AgentCommandLine.InvokeAsync(args);
