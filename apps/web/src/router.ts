import { isRoomName } from '@roomcast/protocol';
import { createRouter, createWebHistory } from 'vue-router';
import { baseTitle, showTitle } from './lib/title.js';
import LobbyView from './views/LobbyView.vue';

/** The SPA routes of INTERFACE.md: `/` the lobby, `/chat/:room/` a room. */
export const router = createRouter({
  history: createWebHistory(),
  routes: [
    // `/chat/` is the lobby too: the Django Channels tutorial's index page lives there.
    { path: '/', alias: '/chat/', name: 'lobby', component: LobbyView },
    {
      path: '/chat/:room/',
      name: 'room',
      // The socket client lives in the room's chunk: the lobby loads without it.
      component: () => import('./views/RoomView.vue'),
      props: true,
      // A name the server would refuse goes back to the lobby, whose picker says what is wrong.
      beforeEnter: (to) => isRoomName(to.params.room) || { name: 'lobby', query: { room: String(to.params.room) } },
    },
    { path: '/:path(.*)*', redirect: { name: 'lobby' } },
  ],
});

router.afterEach((to) => {
  // The views add the unread count once they know it.
  showTitle(baseTitle(to.name === 'room' ? String(to.params.room) : undefined), 0);
});
