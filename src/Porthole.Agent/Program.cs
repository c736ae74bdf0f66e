using Porthole.Agent;

return await AgentCommandLine.InvokeAsync(args);
