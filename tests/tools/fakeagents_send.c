// SPDX-License-Identifier: MIT
/* fakeagents: what an agent sends in its session besides hello — ack, pong, soft expiry, key update. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "fakeagents.h"

void fa_send(struct conn *c, Vxsec__Envelope *env)
{
	uint8_t *buf;
	size_t len;

	if (frame_encode(env, &buf, &len) == 0) {
		conn_send(c, buf, len);
		frame_buf_free(buf, len);
	}
}

void fa_send_ack(struct conn *c, uint64_t revision)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Ack ack = VXSEC__ACK__INIT;

	ack.revision = revision;
	env.msg_case = VXSEC__ENVELOPE__MSG_ACK;
	env.ack = &ack;
	fa_send(c, &env);
}

/* A soft expiry of the SA it transmits with: the leader rotates early. */
void fa_send_expire(struct conn *c, struct fa_agent *a)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__ExpireReport er = VXSEC__EXPIRE_REPORT__INIT;

	for (unsigned int i = 0; i < a->st.n_gens; i++)
		if (a->st.gens[i].phase == VXSEC__PHASE__PHASE_COMMITTED)
			er.generation = a->st.gens[i].number;
	er.spi = (1u + er.generation % 255u) << 24 | a->index;
	env.msg_case = VXSEC__ENVELOPE__MSG_EXPIRE_REPORT;
	env.expire_report = &er;
	fa_send(c, &env);
	a->expire = false;
	printf("%s: reported a soft expiry of SPI 0x%08x (generation %u)\n",
	       fa_id(a->run, a), er.spi, er.generation);
}

const struct pairkey_static *fa_agent_private(const struct fa_agent *a,
					      const uint8_t *pub)
{
	if (!pub)
		return NULL;
	if (a->sk && memcmp(pub, a->pub, PAIRKEY_PUB_LEN) == 0)
		return a->sk;
	if (a->sk_old && memcmp(pub, a->pub_old, PAIRKEY_PUB_LEN) == 0)
		return a->sk_old;
	return NULL;
}

/* Its periodic key change: a new key, the old one kept for the old gens. */
void fa_send_key_update(struct conn *c, struct fa_agent *a)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__KeyUpdate ku = VXSEC__KEY_UPDATE__INIT;
	struct pairkey_static *k = pairkey_generate();

	a->key_update = false;
	if (!k) {
		fa_fail(a->run, a, "cannot make a new static key");
		return;
	}
	pairkey_free(a->sk_old);
	a->sk_old = a->sk;
	memcpy(a->pub_old, a->pub, sizeof(a->pub));
	a->sk = k;
	memcpy(a->pub, pairkey_public(k), sizeof(a->pub));
	ku.static_key = (ProtobufCBinaryData){ sizeof(a->pub), a->pub };
	env.msg_case = VXSEC__ENVELOPE__MSG_KEY_UPDATE;
	env.key_update = &ku;
	fa_send(c, &env);
	printf("%s: announced a new static key\n", fa_id(a->run, a));
}

void fa_send_pong(struct conn *c, uint64_t nonce)
{
	Vxsec__Envelope env = VXSEC__ENVELOPE__INIT;
	Vxsec__Ping ping = VXSEC__PING__INIT;

	ping.nonce = nonce;
	ping.reply = true;
	env.msg_case = VXSEC__ENVELOPE__MSG_PING;
	env.ping = &ping;
	fa_send(c, &env);
}
