package idlepark

import (
	"sync"
	"syscall"
)

// poller watches parked sockets for their next bytes with one epoll set
// and one goroutine for them all, so that a parked connection holds no
// goroutine of its own until its client sends (Linux; elsewhere each
// parked connection waits on a goroutine). A socket may belong to
// several epoll sets: the Go runtime's own set keeps it too.
type poller struct {
	epfd         int
	wakeR, wakeW int // a pipe in the set: closing writes to it

	mu    sync.Mutex
	conns map[int32]*conn
}

func newPoller() *poller {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(epfd)
		return nil
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fds[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, fds[0], &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(fds[0])
		syscall.Close(fds[1])
		return nil
	}
	return &poller{epfd: epfd, wakeR: fds[0], wakeW: fds[1], conns: make(map[int32]*conn)}
}

// add watches c's socket; false when it has none to watch.
func (p *poller) add(c *conn) bool {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	added := false
	_ = rc.Control(func(fd uintptr) {
		p.mu.Lock()
		defer p.mu.Unlock()
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(fd)}
		if syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev) == nil {
			p.conns[int32(fd)] = c
			added = true
		}
	})
	return added
}

// forget stops watching c (before it is closed or read).
func (p *poller) forget(c *conn) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.conns[int32(fd)] == c {
			delete(p.conns, int32(fd))
			_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
		}
	})
}

// run hands each socket that became readable (or was closed by its
// client) to ready, until close.
func (p *poller) run(ready func(*conn)) {
	defer func() {
		syscall.Close(p.epfd)
		syscall.Close(p.wakeR)
	}()
	events := make([]syscall.EpollEvent, 128)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == p.wakeR {
				return
			}
			p.mu.Lock()
			c := p.conns[ev.Fd]
			delete(p.conns, ev.Fd)
			if c != nil {
				_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(ev.Fd), nil)
			}
			p.mu.Unlock()
			if c != nil {
				ready(c)
			}
		}
	}
}

// close ends run.
func (p *poller) close() {
	_, _ = syscall.Write(p.wakeW, []byte{0})
	syscall.Close(p.wakeW)
}
