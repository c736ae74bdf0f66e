using Porthole.Server.Hosting;

var app = ServerHost.Build(args);
await ServerHost.RunAsync(app);
