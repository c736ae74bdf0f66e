namespace Porthole.Server.Transport;

/// <summary>
/// Offered by connections of <see cref="PortholeTransportFactory"/>: the relay switches a connection whose pipes it
/// has taken over to the hot path (<see cref="PortholeConnection"/>), where its input is read and relayed on a thread of
/// its own while data flows. Only relayed legs use it, never a connection that runs application code per request.
/// </summary>
public interface IHotPathFeature
{
    void UseHotPath();
}
