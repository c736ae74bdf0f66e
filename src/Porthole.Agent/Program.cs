using Porthole.Agent;

Porthole.Tunnel.Transport.InlineSocketCompletions.Enable();
return await AgentCommandLine.InvokeAsync(args);
