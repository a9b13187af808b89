// The no-op fastify route the intake benchmark compares against: parses the JSON body, answers 202.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/noop', async (_request, reply) => reply.code(202).send({ id: 'noop', status: 'queued' }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
console.log('listening');
