namespace OrderApi;

/// <summary>The confirmation job's payload (sent camelCase: <c>{"orderId": ..., "customer": ..., "amount": ...}</c>).</summary>
public sealed record OrderConfirmation(Guid OrderId, string Customer, decimal Amount);
